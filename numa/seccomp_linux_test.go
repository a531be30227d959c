package numa

import (
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/seccomptest"
	"github.com/corekv/corekv/topology"
)

// TestNewUnderSeccomp runs itself again in a child process that refuses
// memory policies, where New must fail with an error wrapping both
// errors.ErrUnsupported and EPERM, and Where too; Off still maps.
func TestNewUnderSeccomp(t *testing.T) {
	if !seccomptest.Child(t, seccomptest.RefuseMemoryPolicies) {
		return
	}
	m, err := topology.Read(topology.DefaultRoot)
	if err != nil {
		t.Skipf("cannot read the topology: %v", err)
	}
	for _, p := range []Policy{Interleave, Local} {
		mp, err := New(Config{Policy: p, Machine: m})
		if mp != nil || !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, unix.EPERM) {
			t.Errorf("New(%v) under seccomp = %v, %v, want an unsupported EPERM", p, mp, err)
		}
	}
	mp, err := New(Config{Policy: Off})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mp.Map(os.Getpagesize(), -1)
	if err != nil {
		t.Fatalf("Off Map under seccomp: %v", err)
	}
	defer mp.Unmap(b)
	b[0] = 1
	if _, err := Where(b); !errors.Is(err, errors.ErrUnsupported) || !errors.Is(err, unix.EPERM) {
		t.Errorf("Where under seccomp = %v, want an unsupported EPERM", err)
	}
}
