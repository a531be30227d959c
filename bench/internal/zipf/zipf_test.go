package zipf

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		s       float64
		n       int
		wantErr string
	}{
		{"zero exponent", 0, 10, "zipf: exponent 0: want a finite number above 0"},
		{"negative exponent", -1, 10, "zipf: exponent -1: want a finite number above 0"},
		{"NaN exponent", math.NaN(), 10, "zipf: exponent NaN: want a finite number above 0"},
		{"infinite exponent", math.Inf(1), 10, "zipf: exponent +Inf: want a finite number above 0"},
		{"no ranks", 0.99, 0, "zipf: 0 ranks: want at least 1"},
		{"negative ranks", 0.99, -5, "zipf: -5 ranks: want at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(rand.New(rand.NewPCG(1, 2)), tc.s, tc.n)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("New(%v, %d) error = %v, want %q", tc.s, tc.n, err, tc.wantErr)
			}
		})
	}
}

// harmonic returns the generalized harmonic number H(n, s), summed
// independently of New.
func harmonic(n int, s float64) float64 {
	h := 0.0
	for k := n; k >= 1; k-- {
		h += 1 / math.Pow(float64(k), s)
	}
	return h
}

func TestProbMatchesFormula(t *testing.T) {
	tests := []struct {
		name string
		s    float64
		n    int
	}{
		{"alpha 0.99, 1000 ranks", 0.99, 1000},
		{"alpha 0.8, 1000 ranks", 0.8, 1000},
		{"alpha 1.5, 10 ranks", 1.5, 10},
		{"one rank", 0.5, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := New(rand.New(rand.NewPCG(1, 2)), tc.s, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			h := harmonic(tc.n, tc.s)
			total := 0.0
			for i := range tc.n {
				want := 1 / math.Pow(float64(i+1), tc.s) / h
				if got := z.Prob(i); math.Abs(got-want) > 1e-12 {
					t.Errorf("Prob(%d) = %v, want %v", i, got, want)
				}
				total += z.Prob(i)
			}
			if math.Abs(total-1) > 1e-9 {
				t.Errorf("probabilities sum to %v, want 1", total)
			}
			if p := z.Prob(tc.n); p != 0 {
				t.Errorf("Prob(%d) = %v past the last rank, want 0", tc.n, p)
			}
		})
	}
}

// TestFrequencies draws from a seeded generator and compares each rank's
// count with its expected count: within 5 standard deviations for every
// rank (a binomial's), and a chi-square statistic below the 0.999
// quantile for its degrees of freedom. The seed is fixed: the outcome is
// deterministic.
func TestFrequencies(t *testing.T) {
	tests := []struct {
		name  string
		s     float64
		n     int
		draws int
	}{
		{"alpha 0.99", 0.99, 50, 1_000_000},
		{"alpha 0.8", 0.8, 50, 1_000_000},
		{"alpha 0.5", 0.5, 20, 500_000},
		{"alpha 2", 2, 20, 500_000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			z, err := New(rand.New(rand.NewPCG(7, 11)), tc.s, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			counts := make([]int, tc.n)
			for range tc.draws {
				r := z.Next()
				if r < 0 || r >= tc.n {
					t.Fatalf("Next() = %d, want 0..%d", r, tc.n-1)
				}
				counts[r]++
			}
			chi2 := 0.0
			for i, c := range counts {
				p := z.Prob(i)
				want := p * float64(tc.draws)
				sd := math.Sqrt(want * (1 - p))
				if math.Abs(float64(c)-want) > 5*sd {
					t.Errorf("rank %d drawn %d times, want %.0f ± %.0f", i, c, want, 5*sd)
				}
				chi2 += (float64(c) - want) * (float64(c) - want) / want
			}
			// Wilson-Hilferty approximation of the chi-square 0.999
			// quantile, df = n-1 (z = 3.09).
			df := float64(tc.n - 1)
			limit := df * math.Pow(1-2/(9*df)+3.09*math.Sqrt(2/(9*df)), 3)
			if chi2 > limit {
				t.Errorf("chi-square %.1f over %d ranks, want below %.1f", chi2, tc.n, limit)
			}
		})
	}
}

// TestFirstRankShare checks the share of the most popular key in a
// million-key stream, the figure a cache's hit ratio hangs on.
func TestFirstRankShare(t *testing.T) {
	const n, draws = 1_000_000, 400_000
	z, err := New(rand.New(rand.NewPCG(3, 4)), 0.99, n)
	if err != nil {
		t.Fatal(err)
	}
	want := 1 / harmonic(n, 0.99)
	first := 0
	for range draws {
		if z.Next() == 0 {
			first++
		}
	}
	got := float64(first) / draws
	sd := math.Sqrt(want * (1 - want) / draws)
	if math.Abs(got-want) > 5*sd {
		t.Errorf("rank 0 share = %.5f, want %.5f ± %.5f", got, want, 5*sd)
	}
}

func TestSameSeedSameStream(t *testing.T) {
	a, _ := New(rand.New(rand.NewPCG(5, 6)), 0.8, 1000)
	b, _ := New(rand.New(rand.NewPCG(5, 6)), 0.8, 1000)
	for i := range 10_000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("draw %d: %d and %d from equal seeds", i, x, y)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	z, err := New(rand.New(rand.NewPCG(1, 2)), 0.99, 1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	sink := 0
	for b.Loop() {
		sink += z.Next()
	}
	_ = sink
}
