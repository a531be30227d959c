package store

import "unsafe"

// A chunk is one entry in a segment: a 16-byte header, the key, then the
// value, padded to a multiple of 4 bytes.
//
//	offset 0  slot     uint32  the slot that points here (0 until published)
//	offset 4  vlen     uint32  value length
//	offset 8  expires  uint32  store seconds at which it expires, 0: never
//	offset 12 klen     uint32  key length
//
// A chunk is written once, before it is published through its slot, and
// never again until the whole segment is reused.
const (
	chunkHeader = 16
	maxKeyLen   = 1<<16 - 1
)

// chunkSize returns the bytes a chunk of key length k and value length v
// takes in its segment.
func chunkSize(k, v int) int { return (chunkHeader + k + v + 3) &^ 3 }

// EntrySize returns the bytes an entry with a key of k bytes and a value
// of v bytes takes in a segment: Config.SegmentSize must be at least
// that for the entry to be stored.
func EntrySize(k, v int) int { return chunkSize(k, v) }

// chunk is a view of one chunk's header at offset off of mem.
type chunk struct {
	mem []byte
	off int
}

func (c chunk) u32(at int) *uint32 {
	return (*uint32)(unsafe.Pointer(&c.mem[c.off+at]))
}

func (c chunk) slot() uint32    { return *c.u32(0) }
func (c chunk) vlen() int       { return int(*c.u32(4)) }
func (c chunk) expires() uint32 { return *c.u32(8) }
func (c chunk) klen() int       { return int(*c.u32(12)) }
func (c chunk) size() int       { return chunkSize(c.klen(), c.vlen()) }

// key returns the chunk's key bytes.
func (c chunk) key() []byte {
	k := c.off + chunkHeader
	return c.mem[k : k+c.klen() : k+c.klen()]
}

// value returns the chunk's value bytes, capped so that an append by the
// caller cannot write into the segment.
func (c chunk) value() []byte {
	v := c.off + chunkHeader + c.klen()
	n := c.vlen()
	return c.mem[v : v+n : v+n]
}

// write fills in a new chunk's header and key. The slot is set when the
// chunk is published.
func (c chunk) write(key []byte, vlen int, expires uint32) {
	*c.u32(0) = 0
	*c.u32(4) = uint32(vlen)
	*c.u32(8) = expires
	*c.u32(12) = uint32(len(key))
	copy(c.mem[c.off+chunkHeader:], key)
}

func (c chunk) setSlot(s uint32) { *c.u32(0) = s }

// handle names a chunk: its segment's id in the high 32 bits and its
// offset in the low 32. The zero handle names nothing: id 0 is never used.
// In a slot, the lowest bit (offsets are multiples of 4) is the CLOCK
// visited bit: a hit sets it unless it is set, so it writes at most once
// per eviction pass, and it lives in the slot table on the Go heap, never
// in memory that a segment's reuse could rewrite.
type handle uint64

const visitedBit = 1

func (h handle) plain() handle { return h &^ visitedBit }

func mkHandle(id uint32, off int) handle { return handle(uint64(id)<<32 | uint64(uint32(off))) }
func (h handle) id() uint32              { return uint32(h >> 32) }
func (h handle) off() int                { return int(uint32(h)) }
