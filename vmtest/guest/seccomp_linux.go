package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/internal/seccomptest"
	"github.com/corekv/corekv/internal/serverproc"
)

// nompol executes args[0] with args under a seccomp filter that fails the
// memory policy calls with EPERM.
func nompol(args []string) error {
	if len(args) < 1 {
		return errors.New("usage: nompol PROG [ARGS...]")
	}
	if err := seccomptest.RefuseMemoryPolicies(); err != nil {
		return err
	}
	return unix.Exec(args[0], args, os.Environ())
}

// checkSeccomp starts `corekv --pin-cores` under nompol: it must log one
// warning about --numa-memory, serve the API, and leave every mapping of
// the process without a memory policy.
func (g *guest) checkSeccomp(port int) (string, error) {
	srv, err := serverproc.Start(context.Background(), serverproc.Config{
		Cmd:         exec.Command("/init", "nompol", corekvPath, "--pin-cores", "--port", strconv.Itoa(port)),
		Addr:        "127.0.0.1:" + strconv.Itoa(port),
		Ready:       90 * time.Second,
		Poll:        200 * time.Millisecond,
		Stop:        15 * time.Second,
		OutputLimit: 64 << 10,
	})
	if err != nil {
		return "", err
	}
	defer srv.Stop()
	var c collect
	c.add(checkAPI(h1Client(), srv.Addr, 1))
	var warnings []string
	for line := range strings.Lines(srv.Output()) {
		if strings.Contains(line, "--numa-memory") {
			warnings = append(warnings, strings.TrimSpace(line))
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "warning: --numa-memory=auto: ") {
		c.addf("log lines about --numa-memory %q, want one warning", warnings)
	}
	vmas, err := readNUMAMaps(srv.Pid)
	if err != nil {
		return "", err
	}
	for _, v := range vmas {
		if v.policy != "default" {
			c.addf("mapping at %s has policy %s under seccomp", v.addr, v.policy)
		}
	}
	detail := ""
	if len(warnings) > 0 {
		_, detail, _ = strings.Cut(warnings[0], "warning: ")
	}
	return fmt.Sprintf("%d mappings, all default; %q", len(vmas), detail), c.err()
}
