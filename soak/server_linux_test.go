package soak

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/shard"
)

// exitMargin is how long past --shutdown-timeout a stopping server may
// take before the test calls it hung. It only catches hangs: it is wide.
const exitMargin = 10 * time.Second

// buildCorekv builds the server once for the test and its subtests.
func buildCorekv(t *testing.T) string {
	t.Helper()
	bin, err := serverproc.Build(t.Context(), "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// soakServer is corekv running as a child process on 127.0.0.1.
type soakServer struct {
	t        *testing.T
	proc     *serverproc.Process
	addr     string
	shutdown time.Duration // its --shutdown-timeout
	sigterm  atomic.Bool
	termAt   time.Time // when SIGTERM was sent

	baseRSS int64 // VmRSS once it served a first request, in bytes
	peakRSS atomic.Int64
}

// startServer starts corekv with args (after --host and --port) and waits
// until it answers.
func startServer(t *testing.T, bin string, shutdown time.Duration, args ...string) *soakServer {
	t.Helper()
	args = append([]string{"--host", "127.0.0.1", "--port", "0", "--admin-addr", "127.0.0.1:0", "--shutdown-timeout", shutdown.String()}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = serverproc.HermeticEnv()
	proc, err := serverproc.Start(t.Context(), serverproc.Config{Cmd: cmd})
	if err != nil {
		t.Fatal(err)
	}
	s := &soakServer{t: t, proc: proc, addr: proc.Addr, shutdown: shutdown}
	t.Cleanup(func() {
		proc.Kill()
		if t.Failed() {
			t.Logf("corekv %s logged:\n%s", strings.Join(args, " "), proc.Output())
		}
	})
	go s.sampleRSS()
	if _, err := s.stats(&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}); err != nil {
		t.Fatalf("first /stats: %v", err)
	}
	if s.baseRSS, err = vmRSS(proc.Pid); err != nil {
		t.Fatal(err)
	}
	return s
}

// adminRE matches the line corekv logs once its admin listener is open.
var adminRE = regexp.MustCompile(`admin listening on ([0-9.:]+)`)

// adminAddr returns the admin listener's address, once logged.
func (s *soakServer) adminAddr() string {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := adminRE.FindStringSubmatch(s.proc.Output()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("corekv logged no admin address:\n%s", s.proc.Output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sampleRSS records the peak VmRSS until the process ends.
func (s *soakServer) sampleRSS() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if rss, err := vmRSS(s.proc.Pid); err == nil && rss > s.peakRSS.Load() {
			s.peakRSS.Store(rss)
		}
		select {
		case <-s.proc.Exited():
			return
		case <-tick.C:
		}
	}
}

// vmRSS reads a process's resident set size from /proc/<pid>/status.
func vmRSS(pid int) (int64, error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("cannot parse VmRSS in %s: %w", path, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS in %s", path)
}

// stats fetches /stats.
func (s *soakServer) stats(cl *http.Client) (shard.Stats, error) {
	var st shard.Stats
	resp, err := cl.Get("http://" + s.addr + "/stats")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return st, fmt.Errorf("GET /stats: status %d", resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// terminate sends SIGTERM.
func (s *soakServer) terminate() {
	s.termAt = time.Now()
	s.sigterm.Store(true)
	if err := s.proc.Terminate(); err != nil {
		s.t.Fatalf("SIGTERM: %v", err)
	}
}

// wait waits for the process to end after SIGTERM and checks that it
// exited 0 and logged nothing unexpected. It returns how long it took
// from the signal.
func (s *soakServer) wait() time.Duration {
	s.t.Helper()
	select {
	case <-s.proc.Exited():
	case <-time.After(s.shutdown + exitMargin):
		s.t.Fatalf("corekv still running %v after SIGTERM with --shutdown-timeout %v", s.shutdown+exitMargin, s.shutdown)
	}
	took := time.Since(s.termAt)
	if err := s.proc.ExitErr(); err != nil {
		s.t.Errorf("corekv exited with %v after SIGTERM, want status 0", err)
	}
	s.checkLog()
	return took
}

// stop is terminate then wait.
func (s *soakServer) stop() {
	s.t.Helper()
	s.terminate()
	s.wait()
}

// expectedLog is what corekv may log: start-up, placement fall-backs that
// depend on the machine, and the shutdown. Anything else (a panic, an
// accept error, a data race report) fails the test.
var expectedLog = regexp.MustCompile(`^time=\S+ level=INFO msg="(` +
	`listening on \S+ with \d+ shards: .*|` +
	`limits: max-memory .*|` +
	`shard \d+: cpu -?\d+ core -?\d+ package -?\d+ node -?\d+ pinned=false engine=(loop|std)|` +
	`admin listening on 127\.0\.0\.1:\d+|` +
	`cannot read the (process's CPU affinity|topology) .*|` +
	`numa-memory: values .*|` +
	`warning: --numa-memory=\S+: .*|` +
	`steer: (cpu|hash) .*|` +
	`warning: --steer=cpu: .*|` +
	`warning: (network interrupts land on|cannot read where network interrupts land) .*|` +
	`shutting down: draining for up to \S+)"$`)

func (s *soakServer) checkLog() {
	s.t.Helper()
	for line := range strings.Lines(s.proc.Output()) {
		line = strings.TrimSuffix(line, "\n")
		if !expectedLog.MatchString(line) {
			s.t.Errorf("corekv logged an unexpected line: %q", line)
		}
	}
}

// checkRSS fails if the peak RSS passed start-up RSS + 64 MiB + 4 × data,
// data being the most bytes of keys and values held at once.
func (s *soakServer) checkRSS(data int64) {
	s.t.Helper()
	bound := s.baseRSS + 64<<20 + 4*data
	if peak := s.peakRSS.Load(); peak > bound {
		s.t.Errorf("peak RSS %.1f MiB > bound %.1f MiB (start-up %.1f MiB + 64 MiB + 4 × %.1f MiB of data)",
			mib(peak), mib(bound), mib(s.baseRSS), mib(data))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// tcpQueues returns the bytes queued in the kernel for the IPv4 TCP socket
// from local to remote port: not yet acknowledged by the peer (tx) and not
// yet read by its owner (rx). ok is false if there is no such socket.
func tcpQueues(local, remote int) (tx, rx int64, ok bool, err error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return 0, 0, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := fmt.Sprintf(":%04X", local)
	peer := fmt.Sprintf(":%04X", remote)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 || !strings.HasSuffix(fs[1], want) || !strings.HasSuffix(fs[2], peer) {
			continue
		}
		txs, rxs, found := strings.Cut(fs[4], ":")
		if !found {
			return 0, 0, false, fmt.Errorf("cannot parse queues %q in /proc/net/tcp", fs[4])
		}
		if tx, err = strconv.ParseInt(txs, 16, 64); err == nil {
			rx, err = strconv.ParseInt(rxs, 16, 64)
		}
		return tx, rx, err == nil, err
	}
	return 0, 0, false, sc.Err()
}
