package sqlite

import (
	"path/filepath"
	"testing"

	"github.com/epicsync/epic/internal/directory/storetest"
)

// TestTotalsAcrossStores: a total kept by one Store is not served after
// another Store on the same file (another process) changed the directory.
func TestTotalsAcrossStores(t *testing.T) {
	path := filepath.Join(t.TempDir(), "epic.db")
	storetest.TotalsAcrossStores(t, open(t, path), open(t, path))
}
