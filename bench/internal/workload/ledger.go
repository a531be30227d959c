package workload

import "sync/atomic"

// Ledger records, per key, the versions the generator wrote: the last
// version issued, the last acknowledged by the server, and whether a
// write is in flight. It is safe for concurrent use.
//
// Writes of one key never overlap (a Generator claims the key first), so
// the server holds the last acknowledged version or a later issued one,
// and a read may see exactly those: a read drawn when version a was
// acknowledged and answered when version i was issued must carry a
// version in [a, i].
type Ledger struct {
	keys []slot
}

type slot struct {
	issued  atomic.Uint32
	acked   atomic.Uint32
	writing atomic.Bool
	_       [4]byte // keep slots 16 bytes apart
}

func newLedger(n int) *Ledger {
	return &Ledger{keys: make([]slot, n)}
}

// begin claims key for a write and returns the version to write, or
// false when another write of key is in flight.
func (l *Ledger) begin(key int) (uint32, bool) {
	s := &l.keys[key]
	if !s.writing.CompareAndSwap(false, true) {
		return 0, false
	}
	return s.issued.Add(1), true
}

// Done records the outcome of a write begun by Generator.Next or Preload.
// stored reports that the server acknowledged it (a 2xx answer); refused
// reports that it answered with an error status, which changes nothing
// stored. A write with neither (the connection broke) leaves the key
// claimed for good: the server may or may not hold the version, both of
// which reads accept.
func (l *Ledger) Done(op Op, stored, refused bool) {
	s := &l.keys[op.Key]
	switch {
	case stored:
		s.acked.Store(op.Version)
		s.writing.Store(false)
	case refused:
		s.writing.Store(false)
	}
}

// Preload claims key for the write that stores its first (or next)
// version before timing; it fails when a write of key is in flight.
func (l *Ledger) Preload(key int) (Op, bool) {
	v, ok := l.begin(key)
	return Op{Kind: Store, Key: key, Version: v}, ok
}

// Issued returns the last version of key handed out for writing.
func (l *Ledger) Issued(key int) uint32 {
	return l.keys[key].issued.Load()
}

// Acked returns the last version of key the server acknowledged.
func (l *Ledger) Acked(key int) uint32 {
	return l.keys[key].acked.Load()
}
