package server

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// Profile takes a CPU profile of the server through its admin listener
// (Config.Admin) for the given whole seconds and writes it to path. It
// returns at once; the returned function waits for the profile and
// returns its error.
func (s *Server) Profile(ctx context.Context, seconds int, path string) func() error {
	done := make(chan error, 1)
	go func() { done <- s.profile(ctx, seconds, path) }()
	return func() error { return <-done }
}

func (s *Server) profile(ctx context.Context, seconds int, path string) error {
	if s.AdminAddr == "" {
		return fmt.Errorf("server on %s has no admin listener to profile through", s.Addr)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Duration(seconds)*time.Second+30*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", s.AdminAddr, seconds)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("CPU profile: %s: %s", resp.Status, body)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("CPU profile: %w", err)
	}
	return f.Close()
}
