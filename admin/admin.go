// Package admin serves corekv's operator endpoints on a listener of their
// own, apart from the public port: /metrics (Prometheus), /stats, /healthz
// and the Go profiler under /debug/pprof/.
package admin

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// Config says what the endpoints serve. Nil functions leave their
// endpoint answering 404.
type Config struct {
	// Metrics writes the Prometheus text exposition served at /metrics.
	Metrics func(w io.Writer) error
	// ContentType is /metrics' media type. Default: the text format's,
	// version 0.0.4.
	ContentType string
	// Stats writes the JSON document served at /stats.
	Stats func(w io.Writer) error
	// Ready returns nil once the server is ready for traffic, and an
	// error saying why not otherwise (starting, draining): /healthz then
	// answers 503 with its text.
	Ready func() error
	// ErrorLog logs net/http's errors serving the endpoints. Default:
	// none.
	ErrorLog *log.Logger
	// ShutdownTimeout bounds how long Serve waits, once its context ends,
	// for requests in progress (a CPU profile runs for its whole
	// duration) before it closes their connections. Default 1s.
	ShutdownTimeout time.Duration
}

const defaultContentType = "text/plain; version=0.0.4; charset=utf-8"

func (c Config) withDefaults() Config {
	if c.ContentType == "" {
		c.ContentType = defaultContentType
	}
	if c.ErrorLog == nil {
		c.ErrorLog = log.New(io.Discard, "", 0)
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = time.Second
	}
	return c
}

// Handler returns the admin endpoints.
func Handler(cfg Config) http.Handler {
	cfg = cfg.withDefaults()
	mux := http.NewServeMux()
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", document(cfg.Metrics, cfg.ContentType))
	}
	if cfg.Stats != nil {
		mux.Handle("GET /stats", document(cfg.Stats, "application/json"))
	}
	if cfg.Ready != nil {
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { healthz(w, cfg.Ready) })
	}
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // and the named profiles: heap, goroutine, …
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

// document serves what write writes, whole: an error becomes a 500
// rather than a truncated answer.
func document(write func(io.Writer) error, ctype string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", ctype)
		w.Write(b.Bytes())
	})
}

func healthz(w http.ResponseWriter, ready func() error) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := ready(); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, err.Error()+"\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// Serve serves the admin endpoints on ln until ctx ends, then shuts the
// server down: it waits up to cfg.ShutdownTimeout for requests in
// progress, then closes what is left. It closes ln.
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	cfg = cfg.withDefaults()
	srv := &http.Server{
		Handler:           Handler(cfg),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          cfg.ErrorLog,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if srv.Shutdown(sctx) != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
