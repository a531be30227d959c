package loadgen

import (
	"slices"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/bench/internal/workload"
)

func TestAppendHPACKInt(t *testing.T) {
	tests := []struct {
		name  string
		flags byte
		n     uint
		v     uint64
		want  []byte
	}{
		{"RFC 7541 C.1.1: 10, 5-bit prefix", 0, 5, 10, []byte{0x0a}},
		{"RFC 7541 C.1.2: 1337, 5-bit prefix", 0, 5, 1337, []byte{0x1f, 0x9a, 0x0a}},
		{"RFC 7541 C.1.3: 42, 8-bit prefix", 0, 8, 42, []byte{0x2a}},
		{"prefix full: 15, 4-bit prefix", 0x10, 4, 15, []byte{0x1f, 0x00}},
		{"flags kept", 0x10, 4, 4, []byte{0x14}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := appendHPACKInt(nil, tc.flags, tc.n, tc.v); !slices.Equal(got, tc.want) {
				t.Errorf("appendHPACKInt(%#x, %d, %d) = %x, want %x", tc.flags, tc.n, tc.v, got, tc.want)
			}
		})
	}
}

// TestH2RequestBlocks decodes the pre-encoded blocks with one decoder
// whose dynamic table a server's earlier blocks filled: they must mean
// the same, and leave the table as it was.
func TestH2RequestBlocks(t *testing.T) {
	reqs := newH2Requests("127.0.0.1:3000", 100)
	long := 1 << 20 // a key whose path needs a two-byte length
	tests := []struct {
		op   workload.Op
		want []hpack.HeaderField
	}{
		{workload.Op{Kind: workload.Get, Key: 7}, []hpack.HeaderField{
			{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: "127.0.0.1:3000", Sensitive: true}, {Name: ":path", Value: "/get/key7", Sensitive: true},
		}},
		{workload.Op{Kind: workload.Store, Key: 12345, Version: 3}, []hpack.HeaderField{
			{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: "127.0.0.1:3000", Sensitive: true}, {Name: ":path", Value: "/store/key12345", Sensitive: true},
			{Name: "content-length", Value: "100", Sensitive: true},
		}},
		{workload.Op{Kind: workload.Get, Key: long}, []hpack.HeaderField{
			{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "http"},
			{Name: ":authority", Value: "127.0.0.1:3000", Sensitive: true}, {Name: ":path", Value: "/get/key1048576", Sensitive: true},
		}},
	}
	dec := hpack.NewDecoder(4096, nil)
	var prior []byte
	enc := hpack.NewEncoder(sliceWriter{&prior})
	_ = enc.WriteField(hpack.HeaderField{Name: "x-filler", Value: "in the dynamic table"})
	if _, err := dec.DecodeFull(prior); err != nil {
		t.Fatal(err)
	}
	var key []byte
	for round := range 2 {
		for _, tc := range tests {
			var block []byte
			block, key = reqs.appendBlock(nil, key, tc.op)
			got, err := dec.DecodeFull(block)
			if err != nil {
				t.Fatalf("round %d: decode %s of key %d: %v", round, tc.op.Kind, tc.op.Key, err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("round %d: %s of key %d decodes to %v, want %v", round, tc.op.Kind, tc.op.Key, got, tc.want)
			}
		}
	}
	// The filler is still the table's only entry: index 62.
	if got, err := dec.DecodeFull([]byte{0x80 | 62}); err != nil || len(got) != 1 || got[0].Name != "x-filler" {
		t.Errorf("dynamic table entry 62 after the requests = %v, %v, want the filler alone", got, err)
	}
}

type sliceWriter struct{ b *[]byte }

func (w sliceWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
