package shard

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/api"
)

// fdChildEnv, set to an engine, makes the test binary the server side of
// TestFDExhaustion.
const fdChildEnv = "COREKV_SHARD_FD_CHILD"

// fdLimit is the child's RLIMIT_NOFILE.
const fdLimit = 64

// TestFDExhaustion runs a server in a child process limited to fdLimit
// descriptors (this process keeps its own limit), opens more connections
// than it can accept, and checks that it does not spin while out of
// descriptors, that it goes on serving the connections it has, that it
// accepts again once descriptors are free, and that it then shuts down
// cleanly.
func TestFDExhaustion(t *testing.T) {
	if engine := os.Getenv(fdChildEnv); engine != "" {
		serveLimited(t, engine)
		return
	}
	for _, engine := range engines {
		t.Run(engine, func(t *testing.T) { testFDExhaustion(t, engine) })
	}
}

// serveLimited is the child: it lowers its descriptor limit, serves, prints
// the address and stops when its standard input closes.
func serveLimited(t *testing.T, engine string) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = fdLimit
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	ts := start(t, Config{Engine: engine, Logf: log.New(os.Stderr, "", 0).Printf}, 1)
	fmt.Printf("addr %s\n", ts.addr)
	io.Copy(io.Discard, os.Stdin)
}

// limitedChild is the server process of TestFDExhaustion.
type limitedChild struct {
	cmd    *exec.Cmd
	stdin  io.Closer
	stderr bytes.Buffer
	addr   string
}

func startLimited(t *testing.T, engine string) *limitedChild {
	t.Helper()
	ch := &limitedChild{cmd: exec.Command(os.Args[0], "-test.run=^TestFDExhaustion$", "-test.count=1", "-test.timeout=60s")}
	ch.cmd.Env = append(os.Environ(), fdChildEnv+"="+engine)
	ch.cmd.Stderr = &ch.stderr
	stdin, err1 := ch.cmd.StdinPipe()
	stdout, err2 := ch.cmd.StdoutPipe()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	ch.stdin = stdin
	if err := ch.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ch.cmd.ProcessState == nil { // stop was not reached
			ch.cmd.Process.Kill()
			ch.cmd.Wait()
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "addr ")
	if err != nil || !ok {
		t.Fatalf("child server: %q, %v", line, err)
	}
	ch.addr = addr
	go io.Copy(io.Discard, stdout) // what the child's test framework prints at the end
	return ch
}

// stop closes the child's standard input and waits for it to exit; it
// fails the test if the child's own test failed (goleak included).
func (ch *limitedChild) stop(t *testing.T) {
	t.Helper()
	ch.stdin.Close()
	exited := make(chan error, 1)
	go func() { exited <- ch.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("child server: %v\n%s", err, ch.stderr.String())
		}
	case <-time.After(patience):
		ch.cmd.Process.Kill()
		<-exited
		t.Errorf("the child server did not stop\n%s", ch.stderr.String())
	}
}

func openFDs(t *testing.T, pid int) int {
	t.Helper()
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

func testFDExhaustion(t *testing.T, engine string) {
	ch := startLimited(t, engine)
	pid := ch.cmd.Process.Pid
	first := dial(t, ch.addr)
	first.SetDeadline(time.Now().Add(patience))
	br := bufio.NewReader(first)
	ask := func(what string) {
		t.Helper()
		io.WriteString(first, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != api.Hello {
			t.Fatalf("%s: %d %q", what, resp.StatusCode, body)
		}
	}
	ask("first connection")

	var extra []net.Conn
	for i := 0; i < 2*fdLimit; i++ {
		extra = append(extra, dial(t, ch.addr)) // all complete in the kernel's accept queue
	}
	deadline := time.Now().Add(patience)
	for openFDs(t, pid) < fdLimit {
		if time.Now().After(deadline) {
			t.Fatalf("the child has %d descriptors open, never its limit %d", openFDs(t, pid), fdLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	expectNoSpin(t, fmt.Sprintf("/proc/%d/stat", pid), time.Second, 0.3, "server out of descriptors")
	ask("a connection accepted before the descriptors ran out")

	for _, c := range extra {
		c.Close()
	}
	fresh := dial(t, ch.addr)
	fresh.SetDeadline(time.Now().Add(patience))
	io.WriteString(fresh, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, body := readResponse(t, bufio.NewReader(fresh), "GET"); resp.StatusCode != 200 || body != api.Hello {
		t.Fatalf("a new connection once descriptors are free: %d %q", resp.StatusCode, body)
	}
	fresh.Close()
	first.Close()
	ch.stop(t)
	// The loop logs a pause once per shortage, not at every retry.
	if n := strings.Count(ch.stderr.String(), "accept paused"); n > 4 {
		t.Errorf("the child logged %d accept pauses, want one per shortage:\n%s", n, ch.stderr.String())
	}
}
