package workload

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// draw runs n operations through g, acknowledging every write, and counts
// reads and draws per key.
func draw(t *testing.T, w *Workload, g *Generator, n int) (reads int, perKey []int) {
	t.Helper()
	perKey = make([]int, w.Config().Keys)
	for range n {
		op := g.Next()
		perKey[op.Key]++
		if op.Kind == Get {
			reads++
			continue
		}
		w.Ledger().Done(op, true, false)
	}
	return reads, perKey
}

// within reports whether got is within k standard deviations of a
// binomial count with n trials and probability p.
func within(got, n int, p, k float64) bool {
	mean := float64(n) * p
	sd := math.Sqrt(float64(n) * p * (1 - p))
	return math.Abs(float64(got)-mean) <= k*sd
}

func TestMixReadRatio(t *testing.T) {
	const n = 200_000
	for _, ratio := range []float64{0.8, 0.5, 0.95, 1} {
		w, err := New(Config{Keys: 1000, ReadRatio: ratio})
		if err != nil {
			t.Fatal(err)
		}
		reads, _ := draw(t, w, w.Generator(1), n)
		if !within(reads, n, ratio, 5) {
			t.Errorf("ReadRatio %v: %d reads of %d, want about %.0f", ratio, reads, n, ratio*n)
		}
	}
}

func TestMixWriteOnly(t *testing.T) {
	w, err := New(Config{Keys: 100, WriteOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if reads, _ := draw(t, w, w.Generator(1), 10_000); reads != 0 {
		t.Errorf("WriteOnly drew %d reads, want 0", reads)
	}
}

func TestUniformKeys(t *testing.T) {
	const keys, n = 100, 200_000
	w, err := New(Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	_, perKey := draw(t, w, w.Generator(7), n)
	chi2 := 0.0
	for k, got := range perKey {
		if !within(got, n, 1.0/keys, 5) {
			t.Errorf("key %d drawn %d times of %d, want about %d", k, got, n, n/keys)
		}
		d := float64(got) - n/keys
		chi2 += d * d / (n / keys)
	}
	// 99 degrees of freedom: the 99.99th percentile of chi-square is about 163.
	if chi2 > 163 {
		t.Errorf("chi-square %.1f over 99 degrees of freedom, want below 163", chi2)
	}
}

func TestZipfKeys(t *testing.T) {
	const keys, n, s = 1000, 400_000, 1.2
	w, err := New(Config{Keys: keys, Dist: Zipf, ZipfS: s})
	if err != nil {
		t.Fatal(err)
	}
	_, perKey := draw(t, w, w.Generator(3), n)
	h := 0.0 // generalized harmonic number H(keys, s)
	for i := 1; i <= keys; i++ {
		h += math.Pow(float64(i), -s)
	}
	for _, k := range []int{0, 1, 2, 9, 99} {
		p := math.Pow(float64(k+1), -s) / h
		if !within(perKey[k], n, p, 5) {
			t.Errorf("key %d drawn %d times of %d, want about %.0f", k, perKey[k], n, p*float64(n))
		}
	}
	// The head is hot, the tail cold: the 10 hottest keys get more draws
	// than the coldest 500.
	head, tail := 0, 0
	for k := range 10 {
		head += perKey[k]
	}
	for k := keys - 500; k < keys; k++ {
		tail += perKey[k]
	}
	if head <= tail {
		t.Errorf("10 hottest keys drawn %d times, coldest 500 %d: want a skew", head, tail)
	}
}

func TestSeeds(t *testing.T) {
	ops := func(seed uint64) []Op {
		w, err := New(Config{Keys: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		g := w.Generator(seed)
		var out []Op
		for range 100 {
			op := g.Next()
			if op.Kind == Store {
				w.Ledger().Done(op, true, false)
			}
			out = append(out, op)
		}
		return out
	}
	a, b, c := ops(1), ops(2), ops(1)
	if !reflect.DeepEqual(a, c) {
		t.Errorf("two generators seeded 1 drew different operations")
	}
	same := 0
	for i := range a {
		if a[i].Key == b[i].Key {
			same++
		}
	}
	if same > 5 {
		t.Errorf("seeds 1 and 2 drew the same key %d times of 100", same)
	}
}

func TestWritesOfOneKeyNeverOverlap(t *testing.T) {
	w, err := New(Config{Keys: 1000, WriteOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	g := w.Generator(1)
	seen := map[int]bool{}
	for range 500 { // none acknowledged: every store must claim a fresh key
		op := g.Next()
		if op.Kind == Store && seen[op.Key] {
			t.Fatalf("key %d handed out twice for writing", op.Key)
		}
		seen[op.Key] = op.Kind == Store
	}
}

func TestClaimedKeyBecomesRead(t *testing.T) {
	w, err := New(Config{Keys: 1, WriteOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	g := w.Generator(1)
	first := g.Next()
	if first.Kind != Store || first.Version != 1 {
		t.Fatalf("first Next() = %+v, want a store of version 1", first)
	}
	if op := g.Next(); op.Kind != Get {
		t.Fatalf("with the only key claimed Next() = %+v, want a get", op)
	}
	// A refused write frees the key without acknowledging a version.
	w.Ledger().Done(first, false, true)
	if op := g.Next(); op.Kind != Store || op.Version != 2 {
		t.Fatalf("after a refused write Next() = %+v, want a store of version 2", op)
	}
	if got := w.Ledger().Acked(0); got != 0 {
		t.Errorf("Acked after a refused write = %d, want 0", got)
	}
	// A broken write (neither stored nor refused) keeps the key claimed.
	w.Ledger().Done(Op{Kind: Store, Key: 0, Version: 2}, false, false)
	if op := g.Next(); op.Kind != Get {
		t.Fatalf("after a broken write Next() = %+v, want a get", op)
	}
}

func TestCheck(t *testing.T) {
	w, err := New(Config{Keys: 10, ValueSize: 40})
	if err != nil {
		t.Fatal(err)
	}
	l := w.Ledger()
	// Key 3 at versions 1 (acknowledged) and 2 (in flight).
	op1, _ := l.Preload(3)
	l.Done(op1, true, false)
	if _, ok := l.Preload(3); !ok {
		t.Fatal("Preload(3) refused with no write in flight")
	}
	read := Op{Kind: Get, Key: 3, Version: l.Acked(3)}
	flip := w.AppendValue(nil, 3, 1)
	flip[20] ^= 1
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"acknowledged version", w.AppendValue(nil, 3, 1), ""},
		{"version in flight", w.AppendValue(nil, 3, 2), ""},
		{"version never issued", w.AppendValue(nil, 3, 3), "version 3, want 1-2"},
		{"older than acknowledged", w.AppendValue(nil, 3, 0), "version 0, want 1-2"},
		{"another key's value", w.AppendValue(nil, 4, 1), `the value of "key4"`},
		{"short", w.AppendValue(nil, 3, 1)[:39], "39 bytes, want 40"},
		{"empty", nil, "0 bytes, want 40"},
		{"corrupted byte", flip, "byte 20 of version 1 differs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := w.Check(read, tc.in)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Check(%+v) = %v, want nil", read, err)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Check(%+v) = %v, want a CheckError containing %q", read, err, tc.wantErr)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		wantErr string
	}{
		{"zero value", Config{}, ""},
		{"zipf", Config{Dist: Zipf, ZipfS: 1.01}, ""},
		{"ratio above one", Config{ReadRatio: 1.5}, "read ratio 1.5 out of range 0-1"},
		{"negative ratio", Config{ReadRatio: -0.1}, "read ratio -0.1 out of range 0-1"},
		{"tiny values", Config{ValueSize: 4}, "value size 4 below the minimum of 8 bytes"},
		{"negative keys", Config{Keys: -1}, "keys -1 out of range"},
		{"bad dist", Config{Dist: "pareto"}, `unknown key distribution "pareto"`},
		{"flat zipf", Config{Dist: Zipf, ZipfS: 1}, "zipf exponent 1 must be above 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", tc.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate(%+v) = %v, want an error containing %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestAppendValueAllocs(t *testing.T) {
	w, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 256)
	op := Op{Kind: Get, Key: 5}
	allocs := testing.AllocsPerRun(100, func() {
		buf = w.AppendValue(buf[:0], 5, 0)
		if err := w.Check(op, buf); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendValue+Check allocate %v times per run, want 0", allocs)
	}
}
