package suite

import (
	"fmt"
	"strings"

	"github.com/corekv/corekv/bench/internal/loadgen"
)

// Spec is one configuration to compare: a label, the server's arguments,
// and the protocol bench speaks to it.
type Spec struct {
	Label string
	Args  []string
	// Proto is the protocol; empty means the run's default.
	Proto loadgen.Proto
}

// ParseSpec parses "label=server args", as --compare takes it. The
// arguments are split at spaces; a --proto=h1|h2c (or --proto h2c) among
// them is bench's own, not the server's: it picks the protocol bench
// speaks to this configuration.
func ParseSpec(s string) (Spec, error) {
	label, rest, ok := strings.Cut(s, "=")
	label = strings.TrimSpace(label)
	if !ok || label == "" {
		return Spec{}, fmt.Errorf("parse configuration %q: want label=server args", s)
	}
	sp := Spec{Label: label}
	fields := strings.Fields(rest)
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		switch {
		case strings.HasPrefix(f, "--proto="):
			sp.Proto = loadgen.Proto(strings.TrimPrefix(f, "--proto="))
		case f == "--proto":
			if i+1 == len(fields) {
				return Spec{}, fmt.Errorf("parse configuration %q: --proto needs a value", s)
			}
			i++
			sp.Proto = loadgen.Proto(fields[i])
		default:
			sp.Args = append(sp.Args, f)
		}
	}
	if sp.Proto != "" && sp.Proto != loadgen.H1 && sp.Proto != loadgen.H2C {
		return Spec{}, fmt.Errorf("parse configuration %q: unknown protocol %q: want h1 or h2c", s, sp.Proto)
	}
	return sp, nil
}

// String returns the spec as ParseSpec reads it.
func (s Spec) String() string {
	args := s.Args
	if s.Proto != "" {
		args = append([]string{"--proto=" + string(s.Proto)}, args...)
	}
	return s.Label + "=" + strings.Join(args, " ")
}
