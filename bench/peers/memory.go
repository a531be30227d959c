package main

import (
	"bytes"
	"fmt"
	"math"
	"time"

	"github.com/corekv/corekv/bench/internal/kvproto"
	"github.com/corekv/corekv/bench/internal/peers"
)

type memoryCmd struct {
	Workloads []string `default:"a,b,c" enum:"a,b,c" help:"Workloads to run: a: 300,000 keys x 1,000 B stored once; b: the same, every key overwritten 3 more times; c: 1,000,000 keys x 100 B, overwritten 2 more times."`
	Scale     float64  `default:"1" help:"Multiply every workload's number of keys by this (e.g. 0.01 for a quick check)."`
	Batch     int      `default:"64" help:"Requests per pipelined write."`
	Check     int      `default:"1000" help:"Keys read back after the fill, spread over the key space, to check that each server holds the last version of every value; 0: none."`
}

func (m *memoryCmd) Validate() error {
	if !(m.Scale > 0) || m.Scale > 100 {
		return fmt.Errorf("--scale %v: want above 0, at most 100", m.Scale)
	}
	if m.Batch < 1 || m.Check < 0 {
		return fmt.Errorf("--batch %d, --check %d: want at least 1 and 0", m.Batch, m.Check)
	}
	return nil
}

// fillWorkload is a memory workload: keys values of size bytes, every key
// written passes times (the first store and passes-1 overwrites).
type fillWorkload struct {
	id     string
	keys   int
	size   int
	passes int
}

func (w fillWorkload) String() string {
	s := fmt.Sprintf("%s: %s keys x %s B", w.id, thousands(int64(w.keys)), thousands(int64(w.size)))
	if w.passes == 1 {
		return s + ", stored once"
	}
	return fmt.Sprintf("%s, overwritten %d more times", s, w.passes-1)
}

// memoryWorkloads returns the workloads of issue 11, with their numbers
// of keys multiplied by scale.
func memoryWorkloads(ids []string, scale float64) []fillWorkload {
	all := map[string]fillWorkload{
		"a": {id: "a", keys: 300_000, size: 1000, passes: 1},
		"b": {id: "b", keys: 300_000, size: 1000, passes: 4},
		"c": {id: "c", keys: 1_000_000, size: 100, passes: 3},
	}
	var ws []fillWorkload
	for _, id := range ids {
		w := all[id]
		w.keys = max(1, int(math.Round(float64(w.keys)*scale)))
		ws = append(ws, w)
	}
	return ws
}

// memResult is one server's figures for one workload.
type memResult struct {
	w         fillWorkload
	server    string
	how       string
	stored    int64        // bytes of keys + values held at the end
	base      peers.Memory // before the first request
	mem       peers.Memory // after the fill
	took      time.Duration
	notStored int
	end       counters // the server's own account at the end
}

func (r memResult) peakRatio() float64 { return float64(r.mem.Peak) / float64(r.stored) }
func (r memResult) endRatio() float64  { return float64(r.mem.Current) / float64(r.stored) }

// addedRatio is what the fill added to the idle server's resident
// memory, per byte stored.
func (r memResult) addedRatio() float64 {
	return float64(r.mem.Peak-r.base.Current) / float64(r.stored)
}

// Run runs every workload against every server and prints the results.
func (m *memoryCmd) Run(e *env) error {
	rs, err := m.collect(e)
	if err != nil {
		return err
	}
	return writeMemory(e.out, e.Servers, rs)
}

// collect runs every workload against every server, each on a fresh
// server.
func (m *memoryCmd) collect(e *env) ([]memResult, error) {
	var results []memResult
	for _, w := range memoryWorkloads(m.Workloads, m.Scale) {
		for _, name := range e.Servers {
			e.logf("memory: workload %s on %s", w, name)
			r, err := m.measure(e, w, name)
			if err != nil {
				return nil, fmt.Errorf("workload %s on %s: %w", w.id, name, err)
			}
			results = append(results, r)
		}
	}
	return results, nil
}

// measure starts a fresh server, fills it and reads its memory.
func (m *memoryCmd) measure(e *env, w fillWorkload, name string) (memResult, error) {
	srv, err := e.launch(e.ctx, name, budget{})
	if err != nil {
		return memResult{}, err
	}
	defer func() {
		if err := srv.Stop(); err != nil {
			e.logf("warning: stopping %s: %v", name, err)
		}
	}()
	r := memResult{w: w, server: name, how: srv.how}
	if r.base, err = srv.Memory(); err != nil {
		return r, err
	}
	conn, err := srv.dial(e.ctx)
	if err != nil {
		return r, err
	}
	defer conn.Close()
	ds := newDataset(fixedSize(w.size))
	start := time.Now()
	if r.notStored, err = m.fill(conn, ds, w); err != nil {
		return r, err
	}
	r.took = time.Since(start)
	if r.mem, err = srv.Memory(); err != nil {
		return r, err
	}
	if r.notStored > 0 {
		return r, fmt.Errorf("%d writes not stored with no memory limit", r.notStored)
	}
	r.stored = ds.bytes(w.keys)
	if r.end, err = srv.counters(e.ctx); err != nil {
		return r, err
	}
	return r, m.check(conn, ds, w)
}

// fill writes every key passes times, batch requests per write, and
// returns the number of writes refused.
func (m *memoryCmd) fill(conn *kvproto.Conn, ds *dataset, w fillWorkload) (int, error) {
	notStored := 0
	count := func(_ int, _ kvproto.Op, r kvproto.Reply) error {
		if r.Outcome != kvproto.Stored {
			notStored++
		}
		return nil
	}
	var key []byte
	for v := range w.passes {
		for i := range w.keys {
			key = appendKey(key[:0], i)
			conn.Set(key, ds.value(i, v))
			if conn.Pending() == m.Batch {
				if err := conn.Flush(count); err != nil {
					return notStored, err
				}
			}
		}
	}
	return notStored, conn.Flush(count)
}

// check reads back up to m.Check keys spread over the key space and
// compares each with the last version written.
func (m *memoryCmd) check(conn *kvproto.Conn, ds *dataset, w fillWorkload) error {
	n := min(m.Check, w.keys)
	var key []byte
	for j := range n {
		key = appendKey(key[:0], j*w.keys/n)
		conn.Get(key)
	}
	return conn.Flush(func(j int, _ kvproto.Op, r kvproto.Reply) error {
		i := j * w.keys / n
		want := ds.value(i, w.passes-1)
		if r.Outcome != kvproto.Hit || !bytes.Equal(r.Value, want) {
			return fmt.Errorf("read back key %d: %v, %d bytes; want the %d bytes of version %d", i, r.Outcome, len(r.Value), len(want), w.passes-1)
		}
		return nil
	})
}
