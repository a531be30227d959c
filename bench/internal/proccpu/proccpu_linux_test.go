package proccpu

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func rusage(t *testing.T, who int) time.Duration {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(who, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func spin(n int) int {
	x := 0
	for i := range n {
		x += i * i % 7
	}
	return x
}

var sink int

// TestSelfAgreesWithRusage checks the clock against getrusage, which
// accounts the same runtime at microsecond resolution.
func TestSelfAgreesWithRusage(t *testing.T) {
	pid := os.Getpid()
	a, err := Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	ra := rusage(t, unix.RUSAGE_SELF)
	sink += spin(50_000_000)
	b, err := Process(pid)
	if err != nil {
		t.Fatal(err)
	}
	rb := rusage(t, unix.RUSAGE_SELF)
	got, want := b-a, rb-ra
	if got <= 0 {
		t.Fatalf("CPU time went from %v to %v while spinning", a, b)
	}
	if d := got - want; d < -5*time.Millisecond || d > 5*time.Millisecond {
		t.Errorf("Process(self) grew by %v, getrusage by %v", got, want)
	}
}

// TestChild reads another process's clock: a shell that spins, then
// waits for its stdin to close so that it is still there to be read.
func TestChild(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo done; read x || true")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start sh: %v", err)
	}
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	got, err := Process(cmd.Process.Pid)
	stdin.Close()
	if werr := cmd.Wait(); werr != nil {
		t.Fatal(werr)
	}
	if err != nil {
		t.Fatalf("Process(child): %v", err)
	}
	children := rusage(t, unix.RUSAGE_CHILDREN)
	if got <= 0 || got > children {
		t.Errorf("Process(child) = %v while alive, want above 0 and at most its final %v", got, children)
	}
}

func TestNoSuchProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	// The pid of a reaped child is free (reuse that fast is unlikely).
	if _, err := Process(cmd.Process.Pid); !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ESRCH) {
		t.Errorf("Process(reaped pid) = %v, want EINVAL or ESRCH", err)
	}
	if _, err := Process(0); err == nil {
		t.Errorf("Process(0) = nil error, want one")
	}
}
