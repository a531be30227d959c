package soak

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// soakFlag turns TestSoak's short load into a long one: -soak=5m spreads
// five minutes of load over the engine × protocol combinations.
var soakFlag = flag.Duration("soak", 0, "total load time of TestSoak's engine × protocol runs (0: a few seconds, as in CI)")

// A soak key goes through numbered versions, one request each, issued in
// order by the one writer that owns the key. Version 0 is the key before
// any request: absent. Version v ≥ 1 is, as a pure function of the key's
// id and v, either a delete or a set to value(id, v). Any reply can so be
// checked without keeping the values, and a value of 16 bytes or more
// says which key and version it is (a header: version, id, CRC-32C of the
// rest), so that a wrong reply can be explained.
const (
	soakHeaderLen = 16
	soakMaxValue  = 64 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// soakStep returns what version v (≥ 1) of key id does: delete the key, or
// set it to a value of size bytes.
func soakStep(id uint32, v uint64) (del bool, size int) {
	r := rand.New(soakSource(id, v))
	if r.IntN(10) == 0 {
		return true, 0
	}
	switch u := r.IntN(100); {
	case u < 5:
		return false, 0
	case u < 20:
		return false, 1 + r.IntN(soakHeaderLen-1)
	case u < 60:
		return false, soakHeaderLen + r.IntN(1<<10-soakHeaderLen)
	case u < 90:
		return false, 1<<10 + r.IntN(15<<10)
	default:
		return false, 16<<10 + r.IntN(soakMaxValue-16<<10+1)
	}
}

func soakSource(id uint32, v uint64) *rand.PCG {
	return rand.NewPCG(uint64(id)<<40^v, 0x9e3779b97f4a7c15^v)
}

// soakValue returns the value that version v of key id sets (or nil for a
// delete). Bytes are random, zero, or HTTP look-alikes with CR and LF, so
// that framing mistakes show.
func soakValue(id uint32, v uint64) []byte {
	del, size := soakStep(id, v)
	if del {
		return nil
	}
	b := make([]byte, size)
	r := rand.New(soakSource(id, ^v))
	switch r.IntN(8) {
	case 0: // zeros
	case 1:
		const look = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
		for i := range b {
			b[i] = look[i%len(look)]
		}
	default:
		for i := 0; i+8 <= len(b); i += 8 {
			binary.LittleEndian.PutUint64(b[i:], r.Uint64())
		}
		for i := len(b) &^ 7; i < len(b); i++ {
			b[i] = byte(r.Uint32())
		}
	}
	if size >= soakHeaderLen {
		binary.LittleEndian.PutUint64(b, v)
		binary.LittleEndian.PutUint32(b[8:], id)
		binary.LittleEndian.PutUint32(b[12:], crc32.Checksum(b[soakHeaderLen:], castagnoli))
	}
	return b
}

// soakDescribe says what a value that matched no allowed version is.
func soakDescribe(b []byte) string {
	if len(b) < soakHeaderLen {
		return fmt.Sprintf("%d bytes %q", len(b), b)
	}
	v := binary.LittleEndian.Uint64(b)
	id := binary.LittleEndian.Uint32(b[8:])
	crcOK := binary.LittleEndian.Uint32(b[12:]) == crc32.Checksum(b[soakHeaderLen:], castagnoli)
	want := soakValue(id, v)
	if bytes.Equal(b, want) {
		return fmt.Sprintf("%d bytes: key %d's version %d, intact", len(b), id, v)
	}
	diff := min(len(b), len(want))
	for i := range diff {
		if b[i] != want[i] {
			diff = i
			break
		}
	}
	return fmt.Sprintf("%d bytes claiming to be key %d's version %d (CRC ok %v), which has %d bytes; they differ from byte %d",
		len(b), id, v, crcOK, len(want), diff)
}

// soakKey is one key of the soak and how far its writer got.
type soakKey struct {
	id   uint32
	name []byte // the key itself
	seg  string // the key as a percent-encoded path segment
	// started is the last version whose request the writer began, acked
	// the last one it got a reply to. A reader loads acked before its
	// request and started after its reply: the key's state at the read is
	// then that of a version in [acked, started].
	started, acked atomic.Uint64
}

// newSoakKey makes key number i of writer w. Some keys carry bytes that
// must be percent-encoded: '/', '%', space, CR LF, NUL and non-UTF-8.
func newSoakKey(id uint32, w, i int) *soakKey {
	name := fmt.Appendf(nil, "soak%d.%d", w, i)
	switch i % 4 {
	case 1:
		name = append(name, "/a b?c#d"...)
	case 2:
		name = append(name, "%\x00\xff\r\n"...)
	case 3:
		name = append(name, bytes.Repeat([]byte("é"), 40)...)
	}
	return &soakKey{id: id, name: name, seg: escapeSegment(name)}
}

// escapeSegment percent-encodes every byte but RFC 3986's unreserved ones.
func escapeSegment(b []byte) string {
	const hex = "0123456789ABCDEF"
	var s []byte
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || bytes.IndexByte([]byte("-._~"), c) >= 0 {
			s = append(s, c)
			continue
		}
		s = append(s, '%', hex[c>>4], hex[c&15])
	}
	return string(s)
}

// matches reports whether a read of k whose window is [lo, hi] may return
// what it did: no value (present false), or got.
func (k *soakKey) matches(present bool, got []byte, lo, hi uint64) bool {
	if !present {
		return k.mayBeAbsent(lo, hi)
	}
	if len(got) >= soakHeaderLen {
		v := binary.LittleEndian.Uint64(got)
		return lo <= v && v <= hi && v > 0 && bytes.Equal(got, soakValue(k.id, v))
	}
	for v := max(lo, 1); v <= hi; v++ {
		if del, size := soakStep(k.id, v); !del && size == len(got) && bytes.Equal(got, soakValue(k.id, v)) {
			return true
		}
	}
	return false
}

// matchesSize is matches for a HEAD, which only tells the size.
func (k *soakKey) matchesSize(present bool, size int64, lo, hi uint64) bool {
	if !present {
		return k.mayBeAbsent(lo, hi)
	}
	for v := max(lo, 1); v <= hi; v++ {
		if del, n := soakStep(k.id, v); !del && int64(n) == size {
			return true
		}
	}
	return false
}

func (k *soakKey) mayBeAbsent(lo, hi uint64) bool {
	if lo == 0 {
		return true
	}
	for v := lo; v <= hi; v++ {
		if del, _ := soakStep(k.id, v); del {
			return true
		}
	}
	return false
}

func TestSoakValues(t *testing.T) {
	k := newSoakKey(7, 1, 2)
	sizes := map[int]bool{}
	dels := 0
	for v := uint64(1); v <= 2000; v++ {
		want := soakValue(k.id, v)
		if !bytes.Equal(want, soakValue(k.id, v)) {
			t.Fatalf("soakValue(%d, %d) is not deterministic", k.id, v)
		}
		del, size := soakStep(k.id, v)
		if del {
			dels++
			if k.matches(true, want, v, v) || !k.matches(false, nil, v, v) {
				t.Errorf("version %d is a delete: matches must accept absence only", v)
			}
			continue
		}
		sizes[min(size, soakHeaderLen)] = true
		if len(want) != size || size > soakMaxValue {
			t.Fatalf("soakValue(%d, %d) has %d bytes, want %d ≤ %d", k.id, v, len(want), size, soakMaxValue)
		}
		if !k.matches(true, want, v, v) || !k.matchesSize(true, int64(size), v, v) {
			t.Errorf("version %d does not match itself", v)
		}
		if size >= soakHeaderLen && k.matches(true, want, 0, v-1) {
			t.Errorf("version %d matches a window that ends before it", v)
		}
		if bad := bytes.Clone(want); size > 0 {
			bad[size-1] ^= 1
			if k.matches(true, bad, v, v) {
				t.Errorf("version %d with its last byte flipped still matches", v)
			}
		}
	}
	if dels < 100 || dels > 300 || !sizes[0] || !sizes[1] || !sizes[soakHeaderLen] {
		t.Errorf("2000 versions: %d deletes, sizes seen %v; want about 200 deletes and empty, short and long values", dels, sizes)
	}
	if got := escapeSegment([]byte("a/b %\x00\xffé~")); got != "a%2Fb%20%25%00%FF%C3%A9~" {
		t.Errorf("escapeSegment = %q", got)
	}
}
