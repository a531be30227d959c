package store

import (
	"fmt"
	"testing"
	"time"
)

// TestReleaseAfterDelete fills a hundred segments, deletes everything
// and checks that the arena gives all but keepReady of them back to the
// kernel (ArenaBytes counts what was not given back).
func TestReleaseAfterDelete(t *testing.T) {
	const seg = 4096
	c := newCache(t, Config{SegmentSize: seg})
	sh := c.NewShard(-1)
	value := make([]byte, 1000)
	for i := range 400 {
		if err := sh.Set(fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	if st := c.Stats(); st.ArenaBytes < 100*seg {
		t.Fatalf("ArenaBytes = %d after 400 KB stored", st.ArenaBytes)
	}
	for i := range 400 {
		sh.Delete(fmt.Appendf(nil, "k%d", i))
	}
	sh.Quiescent(time.Now())
	sh.Maintain()
	st := c.Stats()
	if st.ArenaBytes > (keepReady+2)*seg || st.Items != 0 || st.Bytes != 0 {
		t.Errorf("after deleting everything: ArenaBytes %d (want ≤ %d), Items %d, Bytes %d",
			st.ArenaBytes, (keepReady+2)*seg, st.Items, st.Bytes)
	}
}

// TestReleaseChangesGen checks that giving a segment's pages back, which
// zeroes them, changes its generation: a copying Get that read a chunk's
// header before the zeroing and its value after must see the segment
// changed and copy again, not return zeros as the value.
func TestReleaseChangesGen(t *testing.T) {
	const seg = 4096
	c := newCache(t, Config{SegmentSize: seg})
	sh := c.NewShard(-1)
	value := make([]byte, 1000)
	for i := range 400 {
		if err := sh.Set(fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
			t.Fatal(err)
		}
	}
	gens := map[*segment]uint64{}
	for _, s := range *c.ar.tab.Load() {
		if s != nil {
			gens[s] = s.gen.Load()
		}
	}
	for i := range 400 {
		sh.Delete(fmt.Appendf(nil, "k%d", i))
	}
	sh.Quiescent(time.Now())
	sh.Maintain()
	released := 0
	for s, gen := range gens {
		if !s.released {
			continue
		}
		released++
		if s.gen.Load() == gen {
			t.Errorf("segment %d: pages given back, gen still %d", s.id, gen)
		}
	}
	if released == 0 {
		t.Fatalf("no segment of %d was given back", len(gens))
	}
}
