//go:build unix

package engine

import "syscall"

func mapRegion(size int) ([]byte, bool) {
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	return b, err == nil
}

func unmapRegion(b []byte) { syscall.Munmap(b) }
