package metrics

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Runtime gathers the Go runtime's metrics (go_*: goroutines, threads,
// heap, garbage collection) and the process's (process_*: CPU seconds,
// resident memory, descriptors), with client_golang's collectors in a
// registry of its own. They read runtime/metrics and /proc: no
// stop-the-world, so a scrape does not pause the shards' loops.
type Runtime struct {
	reg *prometheus.Registry
}

// NewRuntime returns a Runtime.
func NewRuntime() *Runtime {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Runtime{reg: reg}
}

// WriteText writes the metrics in the Prometheus text exposition format.
func (r *Runtime) WriteText(w io.Writer) error {
	mfs, err := r.reg.Gather()
	if err != nil {
		return fmt.Errorf("metrics: gather runtime metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	return nil
}
