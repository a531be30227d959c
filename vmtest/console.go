package vmtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Console protocol: the guest writes one line per event to the serial
// console, each starting with Prefix, amid whatever the kernel prints:
//
//	VMTEST PASS <name> [detail]
//	VMTEST FAIL <name>: <why>
//	VMTEST LOG <text>
//	VMTEST DATA <stream> <base64 chunk>
//	VMTEST DONE
const Prefix = "VMTEST "

// Report is what a guest said on its console.
type Report struct {
	// Results lists the check results in the order they were printed.
	Results []Result
	// Logs holds the LOG lines.
	Logs []string
	// Data maps each DATA stream name to its decoded bytes.
	Data map[string][]byte
	// Done reports whether the guest finished its checks.
	Done bool
}

// Result is one check's outcome.
type Result struct {
	Name   string
	Pass   bool
	Detail string
}

// ParseConsole reads the protocol lines out of a captured console.
func ParseConsole(console []byte) (*Report, error) {
	r := &Report{Data: map[string][]byte{}}
	b64 := map[string]*strings.Builder{}
	var streams []string
	for line := range bytes.Lines(console) {
		s := strings.TrimRight(string(line), "\r\n")
		i := strings.Index(s, Prefix)
		if i < 0 {
			continue
		}
		if err := r.parseLine(s[i+len(Prefix):], b64, &streams); err != nil {
			return r, err
		}
	}
	for _, name := range streams {
		data, err := base64.StdEncoding.DecodeString(b64[name].String())
		if err != nil {
			return r, fmt.Errorf("decode stream %q: %w", name, err)
		}
		r.Data[name] = data
	}
	return r, nil
}

func (r *Report) parseLine(s string, b64 map[string]*strings.Builder, streams *[]string) error {
	verb, rest, _ := strings.Cut(s, " ")
	switch verb {
	case "PASS":
		name, detail, _ := strings.Cut(rest, " ")
		r.Results = append(r.Results, Result{Name: name, Pass: true, Detail: detail})
	case "FAIL":
		name, detail, _ := strings.Cut(rest, ": ")
		r.Results = append(r.Results, Result{Name: name, Detail: detail})
	case "LOG":
		r.Logs = append(r.Logs, rest)
	case "DATA":
		name, chunk, ok := strings.Cut(rest, " ")
		if !ok {
			return fmt.Errorf("parse console line %q: DATA without stream name", s)
		}
		if b64[name] == nil {
			b64[name] = &strings.Builder{}
			*streams = append(*streams, name)
		}
		b64[name].WriteString(chunk)
	case "DONE":
		r.Done = true
	default:
		return fmt.Errorf("parse console line %q: unknown verb %q", s, verb)
	}
	return nil
}

// Verify returns an error naming every failed check, every name in want
// without a result, and a missing DONE.
func (r *Report) Verify(want []string) error {
	var errs []error
	for _, res := range r.Results {
		if !res.Pass {
			errs = append(errs, fmt.Errorf("check %s failed: %s", res.Name, res.Detail))
		}
	}
	for _, name := range want {
		if !slices.ContainsFunc(r.Results, func(res Result) bool { return res.Name == name }) {
			errs = append(errs, fmt.Errorf("check %s: no result", name))
		}
	}
	if !r.Done {
		errs = append(errs, errors.New("guest did not finish (no DONE line)"))
	}
	return errors.Join(errs...)
}
