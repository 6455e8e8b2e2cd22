package postgres

import (
	"testing"

	"github.com/epicsync/epic/internal/directory/storetest"
)

// TestTotalsAcrossStores: a total kept by one Store is not served after
// another Store on the same database (another epicd) changed the
// directory.
func TestTotalsAcrossStores(t *testing.T) {
	d := freshDSN(t)
	a, err := Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer a.Close()
	b, err := Open(t.Context(), d)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer b.Close()
	storetest.TotalsAcrossStores(t, a, b)
}
