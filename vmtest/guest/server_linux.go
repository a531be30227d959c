package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/corekv/corekv/internal/serverproc"
	"github.com/corekv/corekv/shard"
	"github.com/corekv/corekv/vmtest"
)

// checkServer starts corekv under v and runs the server checks against
// it. When any of them fails, the server's output goes to the console.
func (g *guest) checkServer(v vmtest.Variant, port int) {
	prefix := "server/" + v.Name + "/"
	srv, err := startServer(v, port)
	g.rep.result(prefix+"start", err)
	if err != nil {
		for _, name := range vmtest.ServerChecks()[1:] {
			g.rep.fail(prefix+name, errors.New("server did not start"))
		}
		return
	}
	failed := false
	report := func(name, detail string, err error) {
		failed = failed || err != nil
		g.report(prefix+name, detail, err)
	}
	detail, err := g.checkPin(srv, v)
	report("pin", detail, err)
	report("http1", "", checkAPI(h1Client(), srv.Addr, 1))
	report("h2c", "", checkAPI(h2cClient(), srv.Addr, 2))
	report("upgrade", "", checkUpgrade(srv.Addr))
	detail, err = g.checkSteer(srv.Addr)
	report("steer", detail, err)
	detail, err = checkSpread(srv.Addr, 1, g.layout.IDs())
	report("spread", detail, err)
	detail, err = checkSpread(srv.Addr, 2, g.layout.IDs())
	report("spread-h2c", detail, err)
	report("stop", "", srv.Stop())
	if failed {
		g.rep.log("%s: server output: %q", strings.TrimSuffix(prefix, "/"), srv.Output())
	}
}

func (g *guest) report(name, detail string, err error) {
	if err != nil {
		g.rep.fail(name, err)
		return
	}
	g.rep.pass(name, detail)
}

// startServer starts `corekv --pin-cores` under v, with extra flags, and
// waits until GET / answers.
func startServer(v vmtest.Variant, port int, extra ...string) (*serverproc.Process, error) {
	args := append([]string{"--pin-cores", "--port", strconv.Itoa(port)}, extra...)
	return serverproc.Start(context.Background(), serverproc.Config{
		Cmd:         command(context.Background(), v, args...),
		Addr:        "127.0.0.1:" + strconv.Itoa(port),
		Ready:       90 * time.Second,
		Poll:        200 * time.Millisecond,
		Stop:        15 * time.Second,
		OutputLimit: 2000,
	})
}

func getStats(c *http.Client, addr string) (*shard.Stats, error) {
	code, body, err := get(c, addr, "/stats")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /stats: status %d", code)
	}
	return decodeStats([]byte(body))
}

func decodeStats(body []byte) (*shard.Stats, error) {
	var st shard.Stats
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("decode /stats %q: %w", body, err)
	}
	return &st, nil
}
