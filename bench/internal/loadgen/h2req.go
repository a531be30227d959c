package loadgen

import (
	"bytes"
	"strconv"

	"golang.org/x/net/http2/hpack"

	"github.com/corekv/corekv/bench/internal/workload"
)

// h2Requests holds the HPACK header blocks of the workload's requests,
// encoded once. They use no dynamic table, only static-table indexes and
// literals "never indexed" (RFC 7541 §6.2.3), so a block means the same
// whatever the server's decoder has seen before: one encoding serves
// every request, stream and connection.
type h2Requests struct {
	get   []byte // :method GET, :scheme http, :authority
	store []byte // :method POST, :scheme http, :authority
	tail  []byte // content-length of a store, after the :path
}

// The :path field: a literal never indexed (the 0001 prefix) whose name
// is entry 4 of the static table (RFC 7541 Appendix A).
const (
	hpackNeverIndexed = 0x10
	hpackPathIndex    = 4
	hpackTableSize    = 0x20 // the prefix of a dynamic table size update
)

func newH2Requests(authority string, valueSize int) *h2Requests {
	return &h2Requests{
		get:   encodeFields(":method", "GET", ":scheme", "http", ":authority", authority),
		store: encodeFields(":method", "POST", ":scheme", "http", ":authority", authority),
		tail:  encodeFields("content-length", strconv.Itoa(valueSize)),
	}
}

// encodeFields encodes name, value pairs: an exact static-table match as
// an index, anything else as a literal never indexed.
func encodeFields(kv ...string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for i := 0; i < len(kv); i += 2 {
		f := hpack.HeaderField{Name: kv[i], Value: kv[i+1], Sensitive: true}
		if f.Name == ":method" || f.Name == ":scheme" {
			f.Sensitive = false // both values are in the static table: indexed
		}
		_ = enc.WriteField(f) // a bytes.Buffer does not fail
	}
	return buf.Bytes()
}

// appendBlock appends the header block of op's request to b; key is
// scratch for the key's name, returned for reuse.
func (r *h2Requests) appendBlock(b, key []byte, op workload.Op) ([]byte, []byte) {
	prefix, head := "/get/", r.get
	if op.Kind == workload.Store {
		prefix, head = "/store/", r.store
	}
	b = append(b, head...)
	key = workload.AppendKey(append(key[:0], prefix...), op.Key)
	b = appendHPACKInt(b, hpackNeverIndexed, 4, hpackPathIndex)
	b = appendHPACKInt(b, 0, 7, uint64(len(key))) // a plain string, not Huffman-coded
	b = append(b, key...)
	if op.Kind == workload.Store {
		b = append(b, r.tail...)
	}
	return b, key
}

// appendHPACKInt appends v as an HPACK integer with an n-bit prefix
// (RFC 7541 §5.1), the first byte's other bits set to flags.
func appendHPACKInt(b []byte, flags byte, n uint, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(b, flags|byte(v))
	}
	b = append(b, flags|byte(limit))
	for v -= limit; v >= 128; v >>= 7 {
		b = append(b, byte(v&0x7f)|0x80)
	}
	return append(b, byte(v))
}
