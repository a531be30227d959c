package schedule

import (
	"reflect"
	"testing"
	"time"
)

// fakeClock advances only when slept on or told to.
type fakeClock struct {
	now time.Time
}

// run paces p as the load generator's event loops do: it fires the
// pacer whenever the next request is due, and between times sleeps on c
// until it is.
func run(p Plan, c *fakeClock, maxBatch int, send func(lane int, batch []Due)) {
	pc := NewPacer(p, maxBatch)
	next, more := p.Start, p.Total() > 0
	for more {
		if next.After(c.now) {
			c.now = next
			continue
		}
		next, more = pc.Fire(c.now, send)
	}
}

var t0 = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func TestPlanTotalAndLanes(t *testing.T) {
	tests := []struct {
		name  string
		in    Plan
		want  int
		lanes []int
	}{
		{"1000/s for 1s", Plan{Start: t0, Rate: 1000, Duration: time.Second}, 1000, []int{1000}},
		{"3/s for 1s", Plan{Start: t0, Rate: 3, Duration: time.Second}, 3, []int{3}},
		{"uneven lanes", Plan{Start: t0, Rate: 10, Duration: time.Second, Lanes: 4}, 10, []int{3, 3, 2, 2}},
		{"more lanes than requests", Plan{Start: t0, Rate: 2, Duration: time.Second, Lanes: 4}, 2, []int{1, 1, 0, 0}},
		{"fractional rate", Plan{Start: t0, Rate: 2.5, Duration: 2 * time.Second}, 5, []int{5}},
		{"zero rate", Plan{Start: t0, Duration: time.Second}, 0, []int{0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.Total(); got != tc.want {
				t.Fatalf("Total() = %d, want %d", got, tc.want)
			}
			for lane, want := range tc.lanes {
				if got := tc.in.Count(lane); got != want {
					t.Errorf("Count(%d) = %d, want %d", lane, got, want)
				}
			}
		})
	}
}

func TestPlanLanesInterleave(t *testing.T) {
	p := Plan{Start: t0, Rate: 1000, Duration: 50 * time.Millisecond, Lanes: 3}
	seen := map[time.Duration]bool{}
	for lane := range 3 {
		for i := range p.Count(lane) {
			seen[p.At(lane, i).Sub(t0)] = true
		}
	}
	if len(seen) != p.Total() {
		t.Fatalf("lanes cover %d distinct times, want %d", len(seen), p.Total())
	}
	for g := range p.Total() {
		if d := time.Duration(g) * time.Millisecond; !seen[d] {
			t.Errorf("no lane sends the request due at %v", d)
		}
	}
}

// collect runs lane 0 of p on c and returns every Due handed out, and the
// batch sizes; stall, when set, is called after each batch.
func collect(t *testing.T, p Plan, c *fakeClock, maxBatch int, stall func(batch int)) ([]Due, []int) {
	t.Helper()
	var all []Due
	var sizes []int
	run(p, c, maxBatch, func(lane int, b []Due) {
		if lane != 0 {
			t.Fatalf("send to lane %d of a one-lane plan", lane)
		}
		all = append(all, b...)
		sizes = append(sizes, len(b))
		if stall != nil {
			stall(len(sizes))
		}
	})
	return all, sizes
}

func TestRunOnTime(t *testing.T) {
	p := Plan{Start: t0, Rate: 1000, Duration: 100 * time.Millisecond}
	c := &fakeClock{now: t0}
	all, sizes := collect(t, p, c, 16, nil)
	if len(all) != 100 {
		t.Fatalf("Run handed out %d requests, want 100", len(all))
	}
	for i, d := range all {
		if d.Index != i || !d.Intended.Equal(p.At(0, i)) || d.Late != 0 {
			t.Errorf("request %d = %+v, want index %d at %v, not late", i, d, i, p.At(0, i).Sub(t0))
		}
		if sizes[i] != 1 {
			t.Errorf("batch %d holds %d requests, want 1 on an idle client", i, sizes[i])
		}
	}
	if got := c.now.Sub(t0); got != 99*time.Millisecond {
		t.Errorf("Run ended at %v, want at the last intended time 99ms", got)
	}
}

func TestRunCatchesUpAfterStall(t *testing.T) {
	p := Plan{Start: t0, Rate: 1000, Duration: 100 * time.Millisecond}
	c := &fakeClock{now: t0}
	// The fifth send blocks for 10.5ms: the client falls behind by ten
	// requests and must send them at once, each keeping its intended time.
	all, sizes := collect(t, p, c, 4, func(batch int) {
		if batch == 5 {
			c.now = c.now.Add(10*time.Millisecond + 500*time.Microsecond)
		}
	})
	if len(all) != 100 {
		t.Fatalf("Run handed out %d requests, want 100", len(all))
	}
	for i, d := range all {
		if d.Index != i || !d.Intended.Equal(p.At(0, i)) {
			t.Fatalf("request %d = %+v, want index %d intended at %v", i, d, i, p.At(0, i).Sub(t0))
		}
	}
	// Requests 5-14 were due during the stall; the clock was 14.5ms when
	// the client came back, so they went out in batches of at most 4, all
	// at 14.5ms, late by 14.5ms minus their intended time.
	wantSizes := []int{1, 1, 1, 1, 1, 4, 4, 2, 1}
	for i, w := range wantSizes {
		if sizes[i] != w {
			t.Fatalf("batch sizes %v, want %v at first", sizes[:len(wantSizes)], wantSizes)
		}
	}
	back := 14*time.Millisecond + 500*time.Microsecond
	for i := 5; i <= 14; i++ {
		if want := back - time.Duration(i)*time.Millisecond; all[i].Late != want {
			t.Errorf("request %d late by %v, want %v", i, all[i].Late, want)
		}
	}
	if all[15].Late != 0 || all[4].Late != 0 {
		t.Errorf("requests 4 and 15 late by %v and %v, want on time", all[4].Late, all[15].Late)
	}
}

func TestPacerFire(t *testing.T) {
	p := Plan{Start: t0, Rate: 1000, Duration: 5 * time.Millisecond, Lanes: 2}
	pc := NewPacer(p, 8)
	var got []int
	send := func(lane int, b []Due) {
		for _, d := range b {
			got = append(got, d.Index*2+lane)
		}
	}
	// Before the start: nothing due, the first request next.
	if next, more := pc.Fire(t0.Add(-time.Millisecond), send); !more || !next.Equal(t0) || len(got) != 0 {
		t.Fatalf("Fire before the start = %v, %v with %v sent, want t0, true, none", next.Sub(t0), more, got)
	}
	// At 2.5ms: requests 0-2 (lane 0 gets 0 and 2, lane 1 gets 1); 3 next.
	if next, more := pc.Fire(t0.Add(2500*time.Microsecond), send); !more || next.Sub(t0) != 3*time.Millisecond {
		t.Fatalf("Fire at 2.5ms = %v, %v, want 3ms, true", next.Sub(t0), more)
	}
	if want := []int{0, 2, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %v, want %v (lane by lane)", got, want)
	}
	// Long after the end: the rest, and no more.
	if _, more := pc.Fire(t0.Add(time.Second), send); more {
		t.Fatalf("Fire after the end says more are due")
	}
	if want := []int{0, 2, 1, 4, 3}; !reflect.DeepEqual(got, want) {
		t.Fatalf("sent %v, want %v", got, want)
	}
}

func TestRunLanes(t *testing.T) {
	p := Plan{Start: t0, Rate: 1000, Duration: 30 * time.Millisecond, Lanes: 3}
	c := &fakeClock{now: t0}
	got := make([][]Due, 3)
	calls := 0
	run(p, c, 2, func(lane int, b []Due) {
		calls++
		got[lane] = append(got[lane], b...)
		if calls == 2 { // a 5.5ms stall after the second request
			c.now = c.now.Add(5*time.Millisecond + 500*time.Microsecond)
		}
	})
	for lane, ds := range got {
		if len(ds) != p.Count(lane) {
			t.Fatalf("lane %d got %d requests, want %d", lane, len(ds), p.Count(lane))
		}
		for i, d := range ds {
			if d.Index != i || !d.Intended.Equal(p.At(lane, i)) {
				t.Fatalf("lane %d request %d = %+v, want index %d at %v", lane, i, d, i, p.At(lane, i).Sub(t0))
			}
			want := time.Duration(0)
			if g := i*3 + lane; g >= 2 && g <= 6 { // due at 2-6ms, handed out at 6.5ms
				want = 6*time.Millisecond + 500*time.Microsecond - time.Duration(g)*time.Millisecond
			}
			if d.Late != want {
				t.Errorf("lane %d request %d late by %v, want %v", lane, i, d.Late, want)
			}
		}
	}
	// Requests 0 and 1 alone; at 6.5ms, 2-6 are due, but lane 2's batch
	// is full (maxBatch 2) with 2 and 5: lanes 0, 1, 2 get [3], [4], [2 5];
	// then 6 alone, then one call each for 7-29.
	if want := 2 + 3 + 1 + 23; calls != want {
		t.Errorf("send called %d times, want %d", calls, want)
	}
}
