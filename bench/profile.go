package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/corekv/corekv/bench/internal/report"
	"github.com/corekv/corekv/bench/internal/suite"
)

// mergeProfiles merges each configuration's round profiles in dir into
// profile-<label>.pb.gz and renders its call graph, profile-<label>.svg,
// with pprof (go tool pprof; the SVG needs Graphviz's dot). What fails is
// logged and left out: the round profiles stay.
func mergeProfiles(ctx context.Context, r *report.Report, dir string, logf func(string, ...any)) {
	for i := range r.Configs {
		c := &r.Configs[i]
		if len(c.Profiles) == 0 {
			continue
		}
		name := "profile-" + suite.FileName(c.Label)
		args := []string{"tool", "pprof", "-proto", "-output", filepath.Join(dir, name+".pb.gz")}
		for _, p := range c.Profiles {
			args = append(args, filepath.Join(dir, p))
		}
		if err := goTool(ctx, args...); err != nil {
			logf("%s: merge the CPU profiles: %v", c.Label, err)
			continue
		}
		c.Profile = name + ".pb.gz"
		err := goTool(ctx, "tool", "pprof", "-svg", "-output", filepath.Join(dir, name+".svg"), filepath.Join(dir, c.Profile))
		if err != nil {
			logf("%s: render the call graph (needs Graphviz's dot): %v", c.Label, err)
			continue
		}
		c.Graph = name + ".svg"
	}
}

func goTool(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go %v: %w\n%s", args[:3], err, out)
	}
	return nil
}
