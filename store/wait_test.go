package store

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWriterWaitsForSlowSpare has a spare writer stay online without
// progress, as a goroutine preempted in the middle of a Set does, while
// another goroutine writes far past the limit: the writer must wait for
// it (however long), not fail with ErrFull. An event loop that never
// announces a quiescent state (stuck) must still make it fail, and
// neither may take memory past the overdraft.
func TestWriterWaitsForSlowSpare(t *testing.T) {
	const seg = 4096
	for _, laggard := range []string{"spare", "loop"} {
		t.Run(laggard, func(t *testing.T) {
			c := newCache(t, Config{MaxBytes: 8 * seg, SegmentSize: seg})
			c.spare = append(c.spare, c.newShard(-1, false)) // one for each
			var release func()
			if laggard == "spare" {
				release = c.spareShard().unlockSpare
			} else {
				release = c.NewShard(-1).Close
			}
			errc := make(chan error, 1)
			go func() {
				value := make([]byte, 1000)
				for i := range 200 {
					if err := c.Set(fmt.Appendf(nil, "k%d", i), value, 0); err != nil {
						errc <- fmt.Errorf("Set %d: %w", i, err)
						return
					}
				}
				errc <- nil
			}()
			over := int64(c.ar.overdraftMax())
			waiting := func() bool {
				limbo, _ := c.ar.waitState()
				return limbo && c.Stats().Overdrafts >= over
			}
			var err error
			done := false
			for !done && !waiting() {
				select {
				case err = <-errc:
					done = true
				case <-time.After(100 * time.Microsecond):
				}
			}
			if !done { // hold the laggard well past maxWait
				select {
				case err = <-errc:
					done = true
				case <-time.After(4 * maxWait):
				}
			}
			release()
			if !done {
				err = <-errc
			}
			st := c.Stats()
			if st.Segments > 8+int(over) {
				t.Errorf("%d segments mapped for a limit of 8 and an overdraft of %d", st.Segments, over)
			}
			switch {
			case laggard == "spare" && err != nil:
				t.Errorf("behind a slow spare writer: %v, want every Set to wait for it", err)
			case laggard == "loop" && !errors.Is(err, ErrFull):
				t.Errorf("behind a stuck event loop: %v, want ErrFull", err)
			case st.Overdrafts < over:
				t.Errorf("%d overdrafts: the writer never had to wait", st.Overdrafts)
			}
		})
	}
}

// TestLoopsWriteInOneBatchPastTheLimit has event loops each write far
// past the limit within one batch (no quiescent state between the
// writes), at the same time, while holding value slices they read at the
// batch's start. A loop cannot reuse what it retired itself until it
// passes a quiescent state, nor what the others retired, so each must
// wait; with an OnWait callback (which copies the held slices, as a loop
// copies its batch's output) it waits offline and every write succeeds,
// and the copies are intact. Without one it waits online, and a batch
// that outgrows the overdraft ends in ErrFull after maxWait.
func TestLoopsWriteInOneBatchPastTheLimit(t *testing.T) {
	const (
		seg    = 4096
		writes = 200 // 1,000-byte values: 50 segments a loop, against 8 and an overdraft of 4
	)
	for _, tc := range []struct {
		loops  int
		onWait bool
	}{{1, true}, {2, true}, {3, true}, {1, false}} {
		t.Run(fmt.Sprintf("loops=%d/onWait=%v", tc.loops, tc.onWait), func(t *testing.T) {
			c := newCache(t, Config{MaxBytes: 8 * seg, SegmentSize: seg})
			keys := [][]byte{[]byte("held0"), []byte("held1")}
			w := c.NewShard(-1) // its Close seals the segment: evictable, reusable
			for i, k := range keys {
				if err := w.Set(k, stressValue(i, 1), 0); err != nil {
					t.Fatal(err)
				}
			}
			w.Close()
			errs := make([]error, tc.loops)
			released := make([]int, tc.loops)
			var wg sync.WaitGroup
			for i := range tc.loops {
				sh := c.NewShard(-1)
				var held [][]byte
				if tc.onWait {
					sh.OnWait(func() {
						released[i]++
						for j, v := range held {
							held[j] = bytes.Clone(v)
						}
					})
				}
				wg.Go(func() {
					defer sh.Close()
					sh.Quiescent(time.Now())
					for _, k := range keys {
						if v, _, ok := sh.Get(k); ok {
							held = append(held, v)
						}
					}
					value := make([]byte, 1000)
					for j := range writes {
						if err := sh.Set(fmt.Appendf(nil, "l%d-%d", i, j), value, 0); err != nil {
							errs[i] = fmt.Errorf("write %d: %w", j, err)
							return
						}
					}
					for j, v := range held {
						if _, err := checkValue(j, v); err != nil {
							errs[i] = fmt.Errorf("held value %d after the batch: %w", j, err)
						}
					}
				})
			}
			wg.Wait()
			over := c.ar.overdraftMax()
			if st := c.Stats(); st.Segments > 8+over {
				t.Errorf("%d segments mapped for a limit of 8 and an overdraft of %d", st.Segments, over)
			}
			for i, err := range errs {
				switch {
				case !tc.onWait && !errors.Is(err, ErrFull):
					t.Errorf("loop %d without OnWait: %v, want ErrFull", i, err)
				case tc.onWait && err != nil:
					t.Errorf("loop %d: %v", i, err)
				case tc.onWait && released[i] == 0:
					t.Errorf("loop %d never called its OnWait callback: it never waited", i)
				}
			}
		})
	}
}
