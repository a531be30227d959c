package proccpu

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func threadClock(t *testing.T) time.Duration {
	t.Helper()
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ts.Nano())
}

// TestThreadAgreesWithItsClock reads this thread's CPU time while it
// spins: it must grow as the thread's own CPU-time clock does, and stay
// within the process's.
func TestThreadAgreesWithItsClock(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pid, tid := os.Getpid(), unix.Gettid()
	a, err := Thread(pid, tid)
	if err != nil {
		t.Fatal(err)
	}
	ca := threadClock(t)
	sink += spin(50_000_000)
	b, err := Thread(pid, tid)
	if err != nil {
		t.Fatal(err)
	}
	cb := threadClock(t)
	proc, err := Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	got, want := b-a, cb-ca
	if got <= 0 || b > proc {
		t.Fatalf("Thread went from %v to %v while spinning, process at %v", a, b, proc)
	}
	if d := got - want; d < -5*time.Millisecond || d > 5*time.Millisecond {
		t.Errorf("Thread(self) grew by %v, CLOCK_THREAD_CPUTIME_ID by %v", got, want)
	}
}

func TestThreadNotFound(t *testing.T) {
	_, err := Thread(os.Getpid(), 1) // init is no thread of this process
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Thread(self, 1) = %v, want fs.ErrNotExist", err)
	}
}
