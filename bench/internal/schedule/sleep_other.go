//go:build !linux

package schedule

import "time"

// sleepImpl falls back to time.Sleep, whose wake-ups may come up to a
// millisecond late.
func sleepImpl(d time.Duration) { time.Sleep(d) }
