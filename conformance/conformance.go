// Package conformance runs h2spec, the HTTP/2 conformance suite
// (github.com/summerwind/h2spec), against a server and reads its JUnit
// report into the ids of the cases that failed. Its tests run it against
// the corekv command, built and started as a child process.
package conformance

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// H2specVersion is the h2spec module version the expected results are
// measured with; scripts/test.sh installs it with
// go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible.
const H2specVersion = "v2.2.1+incompatible"

// Case is one h2spec test case and its outcome.
type Case struct {
	// ID names the case as h2spec's output numbers it: the group
	// ("http2/3.5", "generic/1", "hpack/2.3.3") and the case's number in
	// the group, from 1: "http2/3.5/2".
	ID   string
	Desc string
	// Failed is set for a case that failed or ended in an error; Detail
	// then says what h2spec expected and saw.
	Failed  bool
	Skipped bool
	Detail  string
}

// Report is the outcome of one h2spec run, in h2spec's order.
type Report struct {
	Cases []Case
}

// Failed returns the ids of the cases that failed, in order.
func (r *Report) Failed() []string {
	var ids []string
	for _, c := range r.Cases {
		if c.Failed {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// Passed returns how many cases passed.
func (r *Report) Passed() int {
	n := 0
	for _, c := range r.Cases {
		if !c.Failed && !c.Skipped {
			n++
		}
	}
	return n
}

// Score formats the result as h2spec's summary does: "141/145 passed".
func (r *Report) Score() string {
	return fmt.Sprintf("%d/%d passed", r.Passed(), len(r.Cases))
}

// junitSuites is the part of h2spec's JUnit report (reporter/junit_report.go)
// that says which case failed: one testsuite per group, its testcases in
// the group's order.
type junitSuites struct {
	Suites []struct {
		Package string `xml:"package,attr"`
		Cases   []struct {
			Desc    string    `xml:"classname,attr"`
			Failure *junitMsg `xml:"failure"`
			Error   *junitMsg `xml:"error"`
			Skipped *junitMsg `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

type junitMsg struct {
	Text string `xml:",innerxml"`
}

// ParseJUnit reads an h2spec JUnit report (the file its -j flag names).
func ParseJUnit(r io.Reader) (*Report, error) {
	var doc junitSuites
	if err := xml.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse h2spec JUnit report: %w", err)
	}
	rep := &Report{}
	for _, s := range doc.Suites {
		if s.Package == "" && len(s.Cases) > 0 {
			return nil, errors.New("parse h2spec JUnit report: a testsuite without a package")
		}
		for i, tc := range s.Cases {
			c := Case{ID: s.Package + "/" + strconv.Itoa(i+1), Desc: tc.Desc, Skipped: tc.Skipped != nil}
			for _, m := range []*junitMsg{tc.Failure, tc.Error} {
				if m != nil {
					c.Failed = true
					c.Detail = strings.TrimSpace(m.Text)
				}
			}
			rep.Cases = append(rep.Cases, c)
		}
	}
	if len(rep.Cases) == 0 {
		return nil, errors.New("parse h2spec JUnit report: no test cases")
	}
	return rep, nil
}

// Config says how to run h2spec.
type Config struct {
	// Bin is the h2spec binary.
	Bin string
	// Addr is the server's host:port; it speaks h2c with prior knowledge.
	Addr string
	// Timeout is how long h2spec waits for each expected event (its -o
	// flag, in whole seconds). Default 2s.
	Timeout time.Duration
	// Dir is where the report is written. Default: a new temporary
	// directory, removed afterwards.
	Dir string
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Second
	}
	return c
}

// Run runs h2spec against cfg.Addr until it ends or ctx does, and returns
// its report. h2spec exits 1 when a case fails; Run returns an error only
// when no report came out, with h2spec's output.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg = cfg.withDefaults()
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("h2spec address %q: %w", cfg.Addr, err)
	}
	dir := cfg.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "h2spec"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	path := filepath.Join(dir, "h2spec.xml")
	secs := max(int(cfg.Timeout/time.Second), 1)
	cmd := exec.CommandContext(ctx, cfg.Bin, "-h", host, "-p", port, "-o", strconv.Itoa(secs), "-j", path)
	out, runErr := cmd.CombinedOutput()
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s wrote no report (%v, %v):\n%s", cmd, runErr, err, out)
	}
	defer f.Close()
	rep, err := ParseJUnit(f)
	if err != nil {
		return nil, fmt.Errorf("%s (%v): %w\n%s", cmd, runErr, err, out)
	}
	return rep, nil
}

// FindH2spec returns the path of the h2spec binary: the one on PATH, else
// the one go install puts in $(go env GOPATH)/bin.
func FindH2spec(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("h2spec"); err == nil {
		return p, nil
	}
	gopath, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output()
	if err != nil {
		return "", fmt.Errorf("h2spec is not on PATH, and go env GOPATH failed: %w", err)
	}
	for _, dir := range filepath.SplitList(strings.TrimSpace(string(gopath))) {
		p := filepath.Join(dir, "bin", "h2spec")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("h2spec is neither on PATH nor in $(go env GOPATH)/bin (%s): %w", strings.TrimSpace(string(gopath)), exec.ErrNotFound)
}
