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

// chunk is a decoded view of one chunk: its bytes from the header to the
// end of the segment, and its lengths. It is 32 bytes, so that the
// compiler keeps it in registers: a larger one went through the stack on
// every lookup and made a Set take twice as long.
type chunk struct {
	b []byte // from the header to the end of the segment
	n uint64 // value length | key length<<32 | header length<<48 | t<<52
}

// chunkAt decodes the header of the chunk at offset off of mem; ok is
// false when it runs past the end of mem or is malformed. A published
// chunk is always well formed: only a reader racing with the reuse of
// a segment (Cache.copyAt) can see !ok, and it bounds what it reads by
// the lengths it gets, since those may be garbage too. The usual header
// (a key under 64 bytes, no expiry, a value under 128 bytes) is decoded
// inline, the others by headerSlow.
func chunkAt(mem []byte, off int) (chunk, bool) {
	if off >= 0 && off+1 < len(mem) {
		if kt, v := mem[off], mem[off+1]; kt&0x81|v&0x80 == 0 {
			return chunk{mem[off:], uint64(v) | uint64(kt>>1)<<32 | 2<<48}, true
		}
	}
	if off < 0 || off >= len(mem) {
		return chunk{}, false
	}
	n, ok := headerSlow(mem[off:])
	return chunk{mem[off:], n}, ok
}

// headerSlow returns the packed lengths (see chunk.n) of the header at
// the start of b, and whether it is well formed and within b.
func headerSlow(b []byte) (uint64, bool) {
	kt, n := binary.Uvarint(b)
	if n <= 0 || kt>>1 > maxKeyLen {
		return 0, false
	}
	v, m := binary.Uvarint(b[n:])
	if m <= 0 || v > 1<<31 {
		return 0, false
	}
	h := n + m
	if kt&1 != 0 {
		if h+expiresLen > len(b) {
			return 0, false
		}
		h += expiresLen
	}
	return v | kt>>1<<32 | uint64(h)<<48 | (kt&1)<<52, true
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

func (c chunk) vlen() int { return int(uint32(c.n)) }
func (c chunk) klen() int { return int(uint16(c.n >> 32)) }
func (c chunk) hlen() int { return int(c.n >> 48 & 0xf) }
func (c chunk) size() int { return c.hlen() + c.klen() + c.vlen() }

// expires returns the store second at which the entry expires, 0: never.
func (c chunk) expires() uint32 {
	if c.n>>52&1 == 0 {
		return 0
	}
	return binary.LittleEndian.Uint32(c.b[c.hlen()-expiresLen:])
}

// key returns the chunk's key bytes.
func (c chunk) key() []byte {
	k, n := c.hlen(), c.klen()
	return c.b[k : k+n : k+n]
}

// value returns the chunk's value bytes, capped so that an append by the
// caller cannot write into the segment.
func (c chunk) value() []byte {
	v, n := c.hlen()+c.klen(), c.vlen()
	return c.b[v : v+n : v+n]
}

// bytes returns the whole chunk.
func (c chunk) bytes() []byte { return c.b[:c.size()] }

// writeChunk writes the header and key of a new chunk at offset off of
// mem, for a value of vlen bytes that follows them (see chunk.value), and
// returns it. The caller has made room: chunkSize(len(key), vlen,
// expires != 0) bytes.
func writeChunk(mem []byte, off int, key []byte, vlen int, expires uint32) chunk {
	b := mem[off:]
	kt := uint64(len(key)) << 1
	if expires != 0 {
		kt |= 1
	}
	h := binary.PutUvarint(b, kt)
	h += binary.PutUvarint(b[h:], uint64(vlen))
	if expires != 0 {
		binary.LittleEndian.PutUint32(b[h:], expires)
		h += expiresLen
	}
	copy(b[h:], key)
	return chunk{b, uint64(vlen) | kt>>1<<32 | uint64(h)<<48 | (kt&1)<<52}
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
