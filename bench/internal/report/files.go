package report

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// WriteJSON writes the whole report, rounds and summary, as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// roundColumns are the columns of WriteCSV.
var roundColumns = []string{
	"config", "round", "step", "mode", "target_rate", "duration_s",
	"throughput", "completed", "sent", "elapsed_s",
	"p50_us", "p90_us", "p99_us", "p999_us", "max_us", "mean_us",
	"get_p50_us", "get_p99_us", "store_p50_us", "store_p99_us",
	"late_p50_us", "late_p99_us", "late_max_us",
	"server_cpu_us_per_req", "server_util", "client_util", "loop_share", "gomaxprocs",
	"errors_status", "errors_missing", "errors_wrong", "errors_io", "errors_timeout", "status",
}

// WriteCSV writes one row per step of every round.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write(roundColumns)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	i := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, rd := range r.Rounds {
		for _, m := range rd.Measurements {
			st := r.Steps[m.Step]
			cw.Write([]string{
				r.Configs[rd.Config].Label, strconv.Itoa(rd.Round), strconv.Itoa(m.Step), st.Mode(), f(st.Rate), f(st.DurationS),
				f(m.Throughput), i(m.Completed), i(m.Sent), f(m.ElapsedS),
				f(m.Latency.P50), f(m.Latency.P90), f(m.Latency.P99), f(m.Latency.P999), f(m.Latency.Max), f(m.Latency.Mean),
				f(m.Get.P50), f(m.Get.P99), f(m.Store.P50), f(m.Store.P99),
				f(m.Lateness.P50), f(m.Lateness.P99), f(m.Lateness.Max),
				f(m.ServerCPUPerReq), f(m.ServerUtil), f(m.ClientUtil), f(m.LoopShare), strconv.Itoa(rd.GOMAXPROCS),
				i(m.Errors.Status), i(m.Errors.Missing), i(m.Errors.Wrong), i(m.Errors.IO), i(m.Errors.Timeout), string(m.Status),
			})
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteSummaryCSV writes one row per metric of every step and
// configuration: median, min, max, ratio to the first configuration, p.
func (r *Report) WriteSummaryCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"config", "step", "mode", "target_rate", "metric", "n", "median", "min", "max", "ratio", "p", "significant"})
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
	for _, s := range r.Summary {
		st := r.Steps[s.Step]
		for _, m := range metrics {
			x := s.Stats[m.Name]
			cw.Write([]string{r.Configs[s.Config].Label, strconv.Itoa(s.Step), st.Mode(), f(st.Rate), m.Name,
				strconv.Itoa(x.N), f(x.Median), f(x.Min), f(x.Max), f(x.Ratio), f(x.P), strconv.FormatBool(x.Significant)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// Save writes report.json, rounds.csv, summary.csv and summary.txt (the
// table) into dir, creating it.
func (r *Report) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var errs []error
	for name, write := range map[string]func(io.Writer) error{
		"report.json": r.WriteJSON, "rounds.csv": r.WriteCSV,
		"summary.csv": r.WriteSummaryCSV, "summary.txt": r.WriteTable,
	} {
		errs = append(errs, writeFile(filepath.Join(dir, name), write))
	}
	return errors.Join(errs...)
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
