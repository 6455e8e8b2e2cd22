package engine

import (
	"fmt"
	"strings"
	"testing"
)

// TestKeyIndexCollisions forces every key onto a few hashes: look-ups must
// still find exactly the object with the key, through removals, re-adds
// and growth.
func TestKeyIndexCollisions(t *testing.T) {
	var arena keyArena
	var refs []keyRef
	var kinds []uint8
	k := newKeyIndex(0, func(i int32, kind uint8, key string) bool { return kinds[i] == kind && arena.is(refs[i], key) },
		func(i int32) (uint8, string) { return kinds[i], arena.get(refs[i]) }, nil)
	// Three hashes, tags and all: every look-up walks long chains, and
	// the table grows from 16 cells.
	k.hashOf = func(kind uint8, key string) uint64 { return uint64(len(key)%3) * 0x100000001 }
	want := map[kindKey]int32{}
	for i := range 300 {
		key := fmt.Sprintf("k%d", i/2)
		kind := uint8(i % 2)
		refs, kinds = append(refs, arena.put(key)), append(kinds, kind)
		k.add(int32(i), kind, key)
		want[kindKey{kind, key}] = int32(i)
	}
	check := func() {
		t.Helper()
		for kk, i := range want {
			if got := k.find(kk.kind, kk.key); got != i {
				t.Fatalf("find(%d, %q) = %d, want %d", kk.kind, kk.key, got, i)
			}
		}
		if got := k.find(0, "absent"); got != -1 {
			t.Fatalf("find(absent) = %d", got)
		}
	}
	check()
	for kk, i := range want {
		if i%3 == 0 {
			k.remove(i, kk.kind, kk.key)
			delete(want, kk)
			if got := k.find(kk.kind, kk.key); got != -1 {
				t.Fatalf("removed %q still found at %d", kk.key, got)
			}
		}
	}
	check()
	for i := 300; i < 330; i++ {
		key := fmt.Sprintf("new%d", i)
		refs, kinds = append(refs, arena.put(key)), append(kinds, 1)
		k.add(int32(i), 1, key)
		want[kindKey{1, key}] = int32(i)
	}
	check()
}

type kindKey struct {
	kind uint8
	key  string
}

func TestKeyArena(t *testing.T) {
	var a keyArena
	long := strings.Repeat("x", arenaChunk/64+1)
	keys := []string{"", "a", long, "bc"}
	for i := range 100_000 {
		keys = append(keys, fmt.Sprintf("key-%08d", i))
	}
	refs := make([]keyRef, len(keys))
	for i, s := range keys {
		refs[i] = a.put(s)
	}
	for i, s := range keys {
		if got := a.get(refs[i]); got != s || !a.is(refs[i], s) || a.is(refs[i], s+"!") {
			t.Fatalf("key %d: got %.20q, want %.20q", i, got, s)
		}
	}
	if len(a.chunks) < 2 {
		t.Fatalf("%d chunks: the test should cross a chunk", len(a.chunks))
	}
}

func TestOwnIndex(t *testing.T) {
	keys := map[int32]uint64{}
	var mem mapped
	defer mem.free()
	o := newOwnIndex(0, func(s int32) uint64 { return keys[s] }, &mem)
	for i := range int32(5000) {
		keys[i] = ownKey(i/3, uint32(i%3))
		o.set(keys[i], i)
	}
	for i := range int32(5000) {
		if got := o.find(keys[i]); got != i {
			t.Fatalf("find %d = %d", i, got)
		}
	}
	// A swap: slot 0 takes slot 1's key, then slot 1 moves to slot 0's old key.
	k0, k1 := keys[0], keys[1]
	o.del(k0, 0)
	keys[0] = k1
	o.set(k1, 0)
	o.del(k1, 1) // slot 1 no longer holds k1: nothing happens
	keys[1] = k0
	o.set(k0, 1)
	if o.find(k1) != 0 || o.find(k0) != 1 {
		t.Fatalf("after the swap: %d %d", o.find(k1), o.find(k0))
	}
	for i := range int32(5000) {
		if i%2 == 0 {
			o.del(keys[i], i)
		}
	}
	for i := range int32(5000) {
		want := i
		if i%2 == 0 {
			want = -1
		}
		if got := o.find(keys[i]); got != want {
			t.Fatalf("after deletes: find %d = %d, want %d", i, got, want)
		}
	}
}

func TestFoldEq(t *testing.T) {
	for _, s := range []string{"", "ada", "ADA", "Ada.Lovelace", "ÄDA", "straße", "İstanbul", "a\xffb", "DŽ"} {
		for _, f := range []string{fold(s), fold(s) + "x", "ada", ""} {
			if got, want := foldEq(s, f), fold(s) == f; got != want {
				t.Errorf("foldEq(%q, %q) = %v, want %v", s, f, got, want)
			}
		}
	}
}
