package store

import (
	"errors"
	"fmt"
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
				case <-time.After(10 * maxWait):
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
