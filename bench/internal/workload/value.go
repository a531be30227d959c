package workload

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// MinValueSize is the smallest value size: a value carries its key's
// index and its version, 4 bytes each, so a read can be checked.
const MinValueSize = 8

// MaxKeys is the largest number of keys, the most a value's 4-byte key
// index can name.
const MaxKeys = 1 << 31

// KeyName returns the name of key i as it appears in URLs.
func KeyName(i int) string {
	return string(AppendKey(nil, i))
}

// AppendKey appends the name of key i to b.
func AppendKey(b []byte, i int) []byte {
	return strconv.AppendInt(append(b, "key"...), int64(i), 10)
}

// AppendValue appends to b the ValueSize bytes that version v of key
// holds: the key index and the version (little-endian uint32s), then
// letters that depend on both.
func (w *Workload) AppendValue(b []byte, key int, v uint32) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(key))
	b = binary.LittleEndian.AppendUint32(b, v)
	for i := MinValueSize; i < w.cfg.ValueSize; i++ {
		b = append(b, filler(key, v, i))
	}
	return b
}

func filler(key int, v uint32, i int) byte {
	return 'a' + byte((uint(key)+uint(v)+uint(i))%26)
}

// CheckError describes a read whose answer is not a value the generator
// could have left there.
type CheckError struct {
	Key int    // the key read
	Msg string // what is wrong with the answer
}

func (e *CheckError) Error() string {
	return fmt.Sprintf("wrong value for %q: %s", KeyName(e.Key), e.Msg)
}

// Check reports whether body is a value a read of op.Key, drawn by
// Generator.Next as op, may return now: version v of that key, byte for
// byte, with op.Version <= v <= the version last issued. Call it when the
// answer has arrived, so that writes issued meanwhile count.
func (w *Workload) Check(op Op, body []byte) error {
	if len(body) != w.cfg.ValueSize {
		return &CheckError{Key: op.Key, Msg: fmt.Sprintf("%d bytes, want %d", len(body), w.cfg.ValueSize)}
	}
	if k := binary.LittleEndian.Uint32(body); k != uint32(op.Key) {
		return &CheckError{Key: op.Key, Msg: fmt.Sprintf("the value of %q", KeyName(int(k)))}
	}
	v := binary.LittleEndian.Uint32(body[4:])
	hi := w.ledger.Issued(op.Key)
	if v < op.Version || v > hi {
		return &CheckError{Key: op.Key, Msg: fmt.Sprintf("version %d, want %d-%d", v, op.Version, hi)}
	}
	for i := MinValueSize; i < len(body); i++ {
		if body[i] != filler(op.Key, v, i) {
			return &CheckError{Key: op.Key, Msg: fmt.Sprintf("byte %d of version %d differs", i, v)}
		}
	}
	return nil
}
