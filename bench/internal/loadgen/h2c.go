package loadgen

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/corekv/corekv/bench/internal/schedule"
	"github.com/corekv/corekv/bench/internal/workload"
)

// h2cLane is one HTTP/2 connection (prior knowledge, no TLS) carrying
// cfg.Streams concurrent streams, each a goroutine with its own
// generator and recorder.
type h2cLane struct {
	cfg     Config
	w       *workload.Workload
	tr      *http2.Transport
	streams []*h2cStream

	// open loop
	queue  chan time.Time // due times waiting for a free stream
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

type h2cStream struct {
	l    *h2cLane
	gen  *workload.Generator
	rec  *recorder
	val  []byte
	body bytes.Buffer
}

// dialH2C opens the connection (the transport dials once; with
// StrictMaxConcurrentStreams it never opens a second) and checks that the
// server speaks HTTP/2 on it.
func dialH2C(ctx context.Context, cfg Config, w *workload.Workload, seed uint64) (*h2cLane, error) {
	l := &h2cLane{cfg: cfg, w: w, tr: &http2.Transport{
		AllowHTTP:                  true,
		StrictMaxConcurrentStreams: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
	for i := range cfg.Streams {
		l.streams = append(l.streams, &h2cStream{l: l, gen: w.Generator(seed + uint64(i)), rec: newRecorder(w)})
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cfg.Addr+"/", nil)
	if err != nil {
		return nil, err
	}
	resp, err := l.tr.RoundTrip(req)
	if err != nil {
		l.close()
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		l.close()
		return nil, fmt.Errorf("GET / over h2c: status %d", resp.StatusCode)
	}
	return l, nil
}

func (l *h2cLane) close() { l.tr.CloseIdleConnections() }

func (l *h2cLane) recorders() []*recorder {
	recs := make([]*recorder, len(l.streams))
	for i, s := range l.streams {
		recs[i] = s.rec
	}
	return recs
}

// do sends op and returns the answer's status and body, which is valid
// until the next do.
func (s *h2cStream) do(ctx context.Context, op workload.Op) (int, []byte, error) {
	url := "http://" + s.l.cfg.Addr
	var req *http.Request
	var err error
	if op.Kind == workload.Get {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, url+"/get/"+workload.KeyName(op.Key), nil)
	} else {
		s.val = s.l.w.AppendValue(s.val[:0], op.Key, op.Version)
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, url+"/store/"+workload.KeyName(op.Key), bytes.NewReader(s.val))
	}
	if err != nil {
		return 0, nil, err
	}
	s.rec.sent++
	resp, err := s.l.tr.RoundTrip(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	s.body.Reset()
	if _, err := s.body.ReadFrom(resp.Body); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, s.body.Bytes(), nil
}

// run sends op, due at at, and records the outcome.
func (s *h2cStream) run(ctx context.Context, op workload.Op, at time.Time) {
	status, body, err := s.do(ctx, op)
	if err != nil {
		s.rec.lost(op, err)
		return
	}
	now := time.Now()
	s.rec.answer(op, status, body, now.Sub(at), now)
}

// start starts the streams, which take due times from the queue; a
// request waits there while every stream is busy, and that wait counts as
// lateness.
func (l *h2cLane) start(ctx context.Context, deadline time.Time) {
	ctx, l.cancel = context.WithDeadline(ctx, deadline)
	l.queue = make(chan time.Time, l.cfg.MaxInFlight)
	for _, s := range l.streams {
		l.wg.Go(func() {
			for at := range l.queue {
				s.rec.lateBy(time.Now().Sub(at))
				s.run(ctx, s.gen.Next(), at)
			}
		})
	}
}

func (l *h2cLane) send(batch []schedule.Due) {
	for _, d := range batch {
		l.queue <- d.Intended
	}
}

func (l *h2cLane) finish() {
	close(l.queue)
	l.wg.Wait()
	l.cancel()
}

func (l *h2cLane) closed(ctx context.Context, end time.Time, next func() (workload.Op, bool)) {
	ctx, cancel := context.WithDeadline(ctx, end.Add(l.cfg.Timeout))
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range l.streams {
		wg.Go(func() {
			next := next
			if next == nil {
				next = func() (workload.Op, bool) { return s.gen.Next(), true }
			}
			for ctx.Err() == nil && time.Now().Before(end) {
				op, ok := next()
				if !ok {
					return
				}
				s.run(ctx, op, time.Now())
			}
		})
	}
	wg.Wait()
}
