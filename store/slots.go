package store

import (
	"sync"
	"sync/atomic"
)

// slotBlock is how many slots one block of the slot table holds.
const slotBlock = 1 << 14

// slots is the table between the map and the chunks: the map gives a
// key's slot, which holds the handle of the key's current chunk. An
// overwrite only swaps the handle, so it allocates nothing on the Go heap
// and leaves the map alone. Slot 0 is never used.
type slots struct {
	dir atomic.Pointer[[]*[slotBlock]atomic.Uint64]

	mu   sync.Mutex
	next uint32   // slots below next have been handed out
	free []uint32 // handed back
}

func (t *slots) init() {
	dir := []*[slotBlock]atomic.Uint64{new([slotBlock]atomic.Uint64)}
	t.dir.Store(&dir)
	t.next = 1
}

func (t *slots) at(s uint32) *atomic.Uint64 {
	return &(*t.dir.Load())[s/slotBlock][s%slotBlock]
}

// load returns the handle in slot s without its visited bit.
func (t *slots) load(s uint32) handle { return handle(t.at(s).Load()).plain() }

// take appends up to n fresh or freed slots to buf.
func (t *slots) take(buf []uint32, n int) []uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := min(n, len(t.free))
	buf = append(buf, t.free[len(t.free)-k:]...)
	t.free = t.free[:len(t.free)-k]
	for ; k < n; k++ {
		if t.next%slotBlock == 0 {
			t.grow()
		}
		buf = append(buf, t.next)
		t.next++
	}
	return buf
}

// grow adds the block that slot t.next starts. t.mu held.
func (t *slots) grow() {
	old := *t.dir.Load()
	if int(t.next/slotBlock) < len(old) {
		return
	}
	dir := append(append(make([]*[slotBlock]atomic.Uint64, 0, len(old)+1), old...), new([slotBlock]atomic.Uint64))
	t.dir.Store(&dir)
}

// give hands slots back.
func (t *slots) give(s []uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.free = append(t.free, s...)
}
