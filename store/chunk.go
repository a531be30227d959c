package store

import "encoding/binary"

// A chunk is one entry in a segment: a header of 2 to 12 bytes, the key,
// then the value, with no padding (nothing in a chunk is accessed
// atomically). The header is
//
//	klen<<1 | t  uvarint  key length, and t: whether an expiry follows
//	vlen         uvarint  value length
//	expires      uint32   store seconds at which it expires; only if t
//
// so that a 10-byte key with a value under 128 bytes takes 2 bytes of
// header, one under 16 KiB 3 bytes, and an entry with a time to live 4
// bytes more.
//
// A chunk is written once, before it is published through a slot, and
// never again until the whole segment is reused. Whether it is a key's
// current value is the slot's to say: a walk over a segment finds a
// chunk's slot through the map, by the hash of its key.
const (
	maxKeyLen = 1<<16 - 1
	// expiresLen is the size of the expiry field.
	expiresLen = 4
)

// headerSize returns the size of the header of a chunk with key length
// k and value length v, with an expiry or not.
func headerSize(k, v int, expiring bool) int {
	n := uvarintLen(uint64(k)<<1) + uvarintLen(uint64(v))
	if expiring {
		n += expiresLen
	}
	return n
}

// uvarintLen returns the bytes binary.PutUvarint writes for x.
func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// chunkSize returns the bytes a chunk of key length k and value length v
// takes in its segment, with an expiry or not.
func chunkSize(k, v int, expiring bool) int { return headerSize(k, v, expiring) + k + v }

// EntrySize returns the most bytes an entry with a key of k bytes and a
// value of v bytes takes in a segment (with a time to live):
// Config.SegmentSize must be at least that for every such entry to be
// stored.
func EntrySize(k, v int) int { return chunkSize(k, v, true) }

// chunk is a decoded view of one chunk at offset off of mem.
type chunk struct {
	mem  []byte
	off  int    // where the header starts
	at   int    // where the key starts: the header ends
	k, v int    // key and value lengths
	exp  uint32 // expiry, 0: never
}

// chunkAt decodes the header of the chunk at offset off of mem; ok is
// false when it runs past the end of mem or is malformed. A published
// chunk is always well formed: only a reader racing with the reuse of
// a segment (Cache.copyAt) can see !ok, and it bounds what it reads by
// the lengths it gets, since those may be garbage too.
func chunkAt(mem []byte, off int) (c chunk, ok bool) {
	if off < 0 || off >= len(mem) {
		return chunk{}, false
	}
	kt, n := binary.Uvarint(mem[off:])
	if n <= 0 || kt>>1 > maxKeyLen {
		return chunk{}, false
	}
	at := off + n
	v, n := binary.Uvarint(mem[at:])
	if n <= 0 || v > 1<<31 {
		return chunk{}, false
	}
	at += n
	var exp uint32
	if kt&1 != 0 {
		if at+expiresLen > len(mem) {
			return chunk{}, false
		}
		exp = binary.LittleEndian.Uint32(mem[at:])
		at += expiresLen
	}
	return chunk{mem: mem, off: off, at: at, k: int(kt >> 1), v: int(v), exp: exp}, true
}

// mustChunk is chunkAt for a chunk the caller knows is well formed: one
// its slot points to, or one in a segment the caller owns.
func mustChunk(mem []byte, off int) chunk {
	c, ok := chunkAt(mem, off)
	if !ok {
		panic("store: malformed chunk header")
	}
	return c
}

func (c chunk) vlen() int       { return c.v }
func (c chunk) expires() uint32 { return c.exp }
func (c chunk) klen() int       { return c.k }
func (c chunk) size() int       { return c.at - c.off + c.k + c.v }

// key returns the chunk's key bytes.
func (c chunk) key() []byte {
	return c.mem[c.at : c.at+c.k : c.at+c.k]
}

// value returns the chunk's value bytes, capped so that an append by the
// caller cannot write into the segment.
func (c chunk) value() []byte {
	v := c.at + c.k
	return c.mem[v : v+c.v : v+c.v]
}

// writeChunk writes the header and key of a new chunk at offset off of
// mem, for a value of vlen bytes that follows them, and returns where
// the value goes. The caller has made room: chunkSize(len(key), vlen,
// expires != 0) bytes.
func writeChunk(mem []byte, off int, key []byte, vlen int, expires uint32) int {
	kt := uint64(len(key)) << 1
	if expires != 0 {
		kt |= 1
	}
	at := off + binary.PutUvarint(mem[off:], kt)
	at += binary.PutUvarint(mem[at:], uint64(vlen))
	if expires != 0 {
		binary.LittleEndian.PutUint32(mem[at:], expires)
		at += expiresLen
	}
	return at + copy(mem[at:], key)
}

// handle names a chunk: its segment's id in the high 32 bits and its
// offset in the low 31 (segments are at most 2 GiB). The zero handle
// names nothing: id 0 is never used. In a slot, bit 31 is the CLOCK
// visited bit: a hit sets it unless it is set, so it writes at most once
// per eviction pass, and it lives in the slot table on the Go heap, never
// in memory that a segment's reuse could rewrite.
type handle uint64

const visitedBit = 1 << 31

func (h handle) plain() handle { return h &^ visitedBit }

func mkHandle(id uint32, off int) handle { return handle(uint64(id)<<32 | uint64(uint32(off))) }
func (h handle) id() uint32              { return uint32(h >> 32) }
func (h handle) off() int                { return int(uint32(h) &^ visitedBit) }
