package schedule

import (
	"errors"
	"time"

	"golang.org/x/sys/unix"
)

// coarseMargin is how much of a long sleep goes to time.Sleep, which frees the
// P, before nanosleep takes the rest precisely.
const coarseMargin = 2 * time.Millisecond

func sleepImpl(d time.Duration) {
	if d > 2*coarseMargin {
		deadline := time.Now().Add(d)
		time.Sleep(d - coarseMargin)
		d = time.Until(deadline)
	}
	if d <= 0 {
		return
	}
	ts := unix.NsecToTimespec(d.Nanoseconds())
	for {
		if err := unix.Nanosleep(&ts, &ts); !errors.Is(err, unix.EINTR) {
			return
		}
	}
}
