package store

import "github.com/puzpuzpuz/xsync/v3"

// indexParts is how many maps an index splits into: a power of two.
const indexParts = 64

// index maps a key's position (its 64-bit hash, or the next one after a
// collision) to its slot. It is indexParts xsync.MapOfs, picked by the
// position's top bits, each growing on its own: a map doubles its table
// by allocating the new one and copying, so one map would hold its old
// table and its new one at once (at a million entries, 16 MiB and 32
// MiB), and the garbage collector, started by that very allocation,
// finds both live and sets its next goal from them. Split, a doubling
// holds 1/indexParts of that, and the parts double one after the other.
type index struct {
	parts [indexParts]*xsync.MapOf[uint64, uint32]
}

// init makes the maps, with room for presize entries in all (≤ 0: small
// maps that grow).
func (x *index) init(presize int) {
	var opts []func(*xsync.MapConfig)
	if presize > 0 {
		opts = append(opts, xsync.WithPresize((presize+indexParts-1)/indexParts))
	}
	for i := range x.parts {
		x.parts[i] = xsync.NewMapOfWithHasher[uint64, uint32](func(pos, _ uint64) uint64 { return pos }, opts...)
	}
}

func (x *index) part(pos uint64) *xsync.MapOf[uint64, uint32] {
	return x.parts[pos/(1<<64/indexParts)]
}

// Load is xsync.MapOf.Load.
func (x *index) Load(pos uint64) (uint32, bool) { return x.part(pos).Load(pos) }

// LoadOrTryCompute is xsync.MapOf.LoadOrTryCompute.
func (x *index) LoadOrTryCompute(pos uint64, fn func() (uint32, bool)) (uint32, bool) {
	return x.part(pos).LoadOrTryCompute(pos, fn)
}

// Compute is xsync.MapOf.Compute.
func (x *index) Compute(pos uint64, fn func(old uint32, loaded bool) (uint32, bool)) (uint32, bool) {
	return x.part(pos).Compute(pos, fn)
}
