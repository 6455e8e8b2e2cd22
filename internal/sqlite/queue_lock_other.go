//go:build !unix

package sqlite

import (
	"path/filepath"
	"sync"
)

// held are the lock files this process holds. Without flock(2) the lock
// excludes runs of this process only: run one epicd per data folder.
var held sync.Map

// tryLock takes the lock dir/name of this process without waiting.
func tryLock(dir, name string) (unlock func() error, ok bool, err error) {
	key := filepath.Join(dir, name)
	if _, taken := held.LoadOrStore(key, true); taken {
		return nil, false, nil
	}
	return func() error { held.Delete(key); return nil }, true, nil
}
