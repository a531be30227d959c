// Package server runs one corekv instance for a benchmark round, confined
// to given CPUs with taskset, through internal/serverproc: start it, wait
// until it answers, read its /stats, stop it. ModuleRoot finds the source
// to build it from.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/corekv/corekv/shard"
)

// ModuleRoot returns the directory of the Go module that holds the
// current directory (go env GOMOD), where corekv's main package lives.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == "/dev/null" {
		return "", errors.New("not inside a Go module: run bench from the corekv source tree or pass a server binary")
	}
	return filepath.Dir(mod), nil
}

// FetchStats reads GET /stats from the server at addr (host:port), in
// corekv's own schema.
func FetchStats(ctx context.Context, addr string) (*shard.Stats, error) {
	var st shard.Stats
	if err := getJSON(ctx, "http://"+addr+"/stats", &st); err != nil {
		return nil, err
	}
	return &st, nil
}

func getJSON(ctx context.Context, url string, v any) error {
	body, status, err := get(ctx, url)
	if err != nil {
		return err
	}
	if status != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", url, status)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	return nil
}

func get(ctx context.Context, url string) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, err
	}
	client := http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return body, resp.StatusCode, err
}

// FreePort returns a TCP port on host that nothing listens on now.
func FreePort(host string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(port)
}
