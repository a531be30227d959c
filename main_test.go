package main

import (
	"testing"
	"time"

	"github.com/corekv/corekv/shard"
)

// validServe is a serve command as kong fills it with the defaults.
func validServe() serveCmd {
	return serveCmd{
		Port: 3000, ConcurrencyLimit: 250, Engine: shard.EngineLoop, Presize: 1, MaxKeySize: 1024,
		MaxValueSize: 1 << 20, MaxHeaderSize: 16384, MaxConns: 10000,
		ReadTimeout: time.Second, IdleTimeout: time.Second, ShutdownTimeout: time.Second, NUMAMemory: "auto",
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*serveCmd)
		wantErr string
	}{
		{"defaults", func(*serveCmd) {}, ""},
		{"port", func(s *serveCmd) { s.Port = 70000 }, "--port 70000: want 0..65535"},
		{"concurrency", func(s *serveCmd) { s.ConcurrencyLimit = 0 }, "--concurrency-limit 0: want at least 1"},
		{"shards", func(s *serveCmd) { s.Shards = -1 }, "--shards -1: want 0 (one per CPU) or more"},
		{"presize", func(s *serveCmd) { s.Presize = -1 }, "--presize -1: want 0 or more"},
		{"gc percent", func(s *serveCmd) { s.GCPercent = -1 }, "--gc-percent -1: want 0 (auto) or more"},
		{"key size", func(s *serveCmd) { s.MaxKeySize = 0 }, "--max-key-size 0: want at least 1"},
		{"value size", func(s *serveCmd) { s.MaxValueSize = -1 }, "--max-value-size -1: want 0 or more"},
		{"header size", func(s *serveCmd) { s.MaxHeaderSize = 255 }, "--max-header-size 255: want at least 256"},
		{"conns", func(s *serveCmd) { s.MaxConns = 0 }, "--max-conns 0: want at least 1"},
		{"read timeout", func(s *serveCmd) { s.ReadTimeout = 0 }, "--read-timeout 0s: want a positive duration"},
		{"idle timeout", func(s *serveCmd) { s.IdleTimeout = -time.Second }, "--idle-timeout -1s: want a positive duration"},
		{"shutdown timeout", func(s *serveCmd) { s.ShutdownTimeout = 0 }, "--shutdown-timeout 0s: want a positive duration"},
		{"pin std", func(s *serveCmd) { s.PinCores, s.Engine = true, shard.EngineStd }, "--pin-cores needs --engine=loop: net/http serves each connection on an unpinned goroutine"},
		{"admin off", func(s *serveCmd) { s.AdminAddr = "" }, ""},
		{"admin any port", func(s *serveCmd) { s.AdminAddr = "127.0.0.1:0" }, ""},
		{"admin no port", func(s *serveCmd) { s.AdminAddr = "localhost" }, `--admin-addr "localhost": want host:port or empty: address localhost: missing port in address`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validServe()
			tc.edit(&s)
			err := s.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tc.wantErr {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestGCPercent checks --gc-percent: a value given wins, auto leaves a
// GOGC from the environment alone, else picks by engine.
func TestGCPercent(t *testing.T) {
	tests := []struct {
		name    string
		flag    int
		engine  string
		gogc    string // "": not set
		want    int
		wantSet bool
	}{
		{"auto loop", 0, shard.EngineLoop, "", loopGCPercent, true},
		{"auto std", 0, shard.EngineStd, "", 100, true},
		{"auto with GOGC", 0, shard.EngineLoop, "200", 0, false},
		{"auto with GOGC off", 0, shard.EngineStd, "off", 0, false},
		{"given", 50, shard.EngineLoop, "", 50, true},
		{"given beats GOGC", 300, shard.EngineStd, "200", 300, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := validServe()
			s.GCPercent, s.Engine = tc.flag, tc.engine
			env := func(name string) (string, bool) {
				if name == "GOGC" && tc.gogc != "" {
					return tc.gogc, true
				}
				return "", false
			}
			got, set := s.gcPercent(env)
			if got != tc.want || set != tc.wantSet {
				t.Errorf("gcPercent() = %d, %v, want %d, %v", got, set, tc.want, tc.wantSet)
			}
		})
	}
}
