package main

import (
	"bytes"
	"testing"
)

func TestAppendKey(t *testing.T) {
	tests := []struct {
		in   int
		want string
	}{
		{0, "key0000000"},
		{7, "key0000007"},
		{999_999, "key0999999"},
		{1_000_000, "key1000000"},
		{12_345_678, "key12345678"},
	}
	for _, tc := range tests {
		if got := string(appendKey([]byte("x"), tc.in)); got != "x"+tc.want {
			t.Errorf("appendKey(%d) = %q, want %q", tc.in, got, "x"+tc.want)
		}
		if got := keyLen(tc.in); got != len(tc.want) {
			t.Errorf("keyLen(%d) = %d, want %d", tc.in, got, len(tc.want))
		}
	}
}

func TestSpreadSize(t *testing.T) {
	size := spreadSize(100, 1000)
	seen := map[int]bool{}
	sum := 0
	const n = 100_000
	for i := range n {
		s := size(i)
		if s < 100 || s > 1000 {
			t.Fatalf("size(%d) = %d, want 100-1000", i, s)
		}
		if s2 := size(i); s2 != s {
			t.Fatalf("size(%d) = %d, then %d", i, s, s2)
		}
		seen[s] = true
		sum += s
	}
	if len(seen) != 901 {
		t.Errorf("%d distinct sizes in %d keys, want all 901", len(seen), n)
	}
	if mean := float64(sum) / n; mean < 545 || mean > 555 {
		t.Errorf("mean size %.1f, want about 550", mean)
	}
}

func TestValue(t *testing.T) {
	d := newDataset(fixedSize(1000))
	a, b := d.value(3, 0), d.value(3, 1)
	if len(a) != 1000 || len(b) != 1000 {
		t.Fatalf("value sizes %d and %d, want 1000", len(a), len(b))
	}
	if !bytes.Equal(a, d.value(3, 0)) {
		t.Error("value(3, 0) changes between calls")
	}
	differ := 0
	for v := range 16 {
		if !bytes.Equal(d.value(3, v), d.value(4, v)) {
			differ++
		}
	}
	if differ < 12 {
		t.Errorf("keys 3 and 4 differ in %d of 16 versions, want most", differ)
	}
	if got, want := d.bytes(3), int64(3*(10+1000)); got != want {
		t.Errorf("bytes(3) = %d, want %d", got, want)
	}
	big := newDataset(fixedSize(1 << 20))
	if got := len(big.value(5, 9)); got != 1<<20 {
		t.Errorf("1 MiB value has %d bytes", got)
	}
}
