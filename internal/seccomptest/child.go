package seccomptest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// childEnv marks a child process started by Child; its value is the name
// of the test the child runs.
const childEnv = "COREKV_SECCOMPTEST_CHILD"

// Child runs the calling test under a seccomp filter in a child process.
// In the parent it runs the test binary again for t's test alone, fails t
// unless the child passed, skips t where the child skipped, and returns
// false: the caller returns. In the child it installs the filter with
// refuse, skips t where that fails, and returns true: the caller goes on
// with the checks that need the filter.
func Child(t *testing.T, refuse func() error) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		if err := refuse(); err != nil {
			t.Skipf("cannot install a seccomp filter: %v", err)
		}
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child under seccomp: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "--- SKIP") {
		t.Skipf("child skipped:\n%s", out)
	}
	return false
}
