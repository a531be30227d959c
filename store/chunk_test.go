package store

import (
	"bytes"
	"testing"
)

// TestChunkRoundTrip checks that a chunk written with writeChunk decodes
// to what was written, in exactly chunkSize bytes, at the header sizes
// the format promises.
func TestChunkRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		k, v    int
		exp     uint32
		wantHdr int
	}{
		{"empty", 0, 0, 0, 2},
		{"small value", 10, 100, 0, 2},
		{"1000 B value", 10, 1000, 0, 3},
		{"with expiry", 10, 1000, 12345, 7},
		{"key of 64 bytes", 64, 127, 0, 3},
		{"longest key, 1 MiB value, expiry", maxKeyLen, 1 << 20, 1<<32 - 1, 3 + 3 + 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := chunkSize(tc.k, tc.v, tc.exp != 0)
			if got := size - tc.k - tc.v; got != tc.wantHdr {
				t.Fatalf("header of chunkSize(%d, %d, %v) = %d bytes, want %d", tc.k, tc.v, tc.exp != 0, got, tc.wantHdr)
			}
			if es := EntrySize(tc.k, tc.v); es < size {
				t.Fatalf("EntrySize(%d, %d) = %d < chunkSize %d", tc.k, tc.v, es, size)
			}
			key := bytes.Repeat([]byte("k"), tc.k)
			mem := make([]byte, 3+size+5)
			w := writeChunk(mem, 3, key, tc.v, tc.exp)
			for i := range tc.v {
				w.value()[i] = byte(i)
			}
			c, ok := chunkAt(mem, 3)
			if c.n != w.n {
				t.Fatalf("chunkAt = %#x, writeChunk returned %#x", c.n, w.n)
			}
			if !ok {
				t.Fatal("chunkAt of a written chunk: not ok")
			}
			if c.klen() != tc.k || c.vlen() != tc.v || c.expires() != tc.exp || c.size() != size {
				t.Fatalf("chunkAt = k %d v %d exp %d size %d, want %d %d %d %d",
					c.klen(), c.vlen(), c.expires(), c.size(), tc.k, tc.v, tc.exp, size)
			}
			if !bytes.Equal(c.key(), key) || len(c.value()) != tc.v || tc.v > 0 && c.value()[tc.v-1] != byte(tc.v-1) {
				t.Fatal("chunkAt key or value differs from what was written")
			}
		})
	}
}

// FuzzChunkAt checks that decoding arbitrary bytes (what a copying reader
// sees in a segment being reused) never panics nor reports a header that
// ends past the memory, and that a written chunk decodes back.
func FuzzChunkAt(f *testing.F) {
	f.Add([]byte{0x14, 0x64}, 0, uint16(10), uint32(100), uint32(0))
	f.Add([]byte{0x15, 0xe8, 0x07, 1, 2, 3, 4}, 0, uint16(0), uint32(1000), uint32(7))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 0, uint16(maxKeyLen), uint32(1<<31), uint32(1))
	f.Add([]byte{0x81}, 0, uint16(1), uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, mem []byte, off int, k uint16, v, exp uint32) {
		if c, ok := chunkAt(mem, off); ok {
			if c.hlen() > len(mem)-off || c.hlen() < 2 || c.n>>52&1 != 0 && c.hlen() < expiresLen+2 {
				t.Fatalf("chunkAt(% x, %d) = %+v: header out of bounds", mem, off, c)
			}
		}
		v %= 1 << 16 // keep the buffer small
		key := bytes.Repeat([]byte{'x'}, int(k))
		buf := make([]byte, chunkSize(int(k), int(v), exp != 0))
		w := writeChunk(buf, 0, key, int(v), exp)
		c, ok := chunkAt(buf, 0)
		if !ok || c.n != w.n || c.klen() != int(k) || c.vlen() != int(v) || c.expires() != exp || c.size() != len(buf) {
			t.Fatalf("chunkAt(writeChunk(k %d, v %d, exp %d)) = %+v, %v", k, v, exp, c, ok)
		}
	})
}
