//go:build !unix

package engine

func mapRegion(int) ([]byte, bool) { return nil, false }

func unmapRegion([]byte) {}
