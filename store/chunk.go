package store

import "encoding/binary"

// A chunk is one entry in a segment: a 10-byte header, the key, then the
// value, with no padding (nothing in a chunk is accessed atomically).
//
//	offset 0  vlen     uint32  value length
//	offset 4  expires  uint32  store seconds at which it expires, 0: never
//	offset 8  klen     uint16  key length
//
// A chunk is written once, before it is published through a slot, and
// never again until the whole segment is reused. Whether it is a key's
// current value is the slot's to say: a walk over a segment finds a
// chunk's slot through the map, by the hash of its key.
const (
	chunkHeader = 10
	maxKeyLen   = 1<<16 - 1
)

// chunkSize returns the bytes a chunk of key length k and value length v
// takes in its segment.
func chunkSize(k, v int) int { return chunkHeader + k + v }

// EntrySize returns the bytes an entry with a key of k bytes and a value
// of v bytes takes in a segment: Config.SegmentSize must be at least
// that for the entry to be stored.
func EntrySize(k, v int) int { return chunkSize(k, v) }

// chunk is a view of one chunk at offset off of mem.
type chunk struct {
	mem []byte
	off int
}

func (c chunk) vlen() int       { return int(binary.LittleEndian.Uint32(c.mem[c.off:])) }
func (c chunk) expires() uint32 { return binary.LittleEndian.Uint32(c.mem[c.off+4:]) }
func (c chunk) klen() int       { return int(binary.LittleEndian.Uint16(c.mem[c.off+8:])) }
func (c chunk) size() int       { return chunkSize(c.klen(), c.vlen()) }

// key returns the chunk's key bytes.
func (c chunk) key() []byte {
	k := c.off + chunkHeader
	n := c.klen()
	return c.mem[k : k+n : k+n]
}

// value returns the chunk's value bytes, capped so that an append by the
// caller cannot write into the segment.
func (c chunk) value() []byte {
	v := c.off + chunkHeader + c.klen()
	n := c.vlen()
	return c.mem[v : v+n : v+n]
}

// write fills in a new chunk's header and key.
func (c chunk) write(key []byte, vlen int, expires uint32) {
	h := c.mem[c.off : c.off+chunkHeader]
	binary.LittleEndian.PutUint32(h, uint32(vlen))
	binary.LittleEndian.PutUint32(h[4:], expires)
	binary.LittleEndian.PutUint16(h[8:], uint16(len(key)))
	copy(c.mem[c.off+chunkHeader:], key)
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
