package topology

import (
	"math/big"
	"slices"
	"strings"
	"testing"
)

func TestParseCPUMask(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []int
		wantErr string
	}{
		{in: "0\n", want: []int{}},
		{in: "f", want: []int{0, 1, 2, 3}},
		{in: "00000000,0000000f", want: []int{0, 1, 2, 3}},
		{in: "1,00000001", want: []int{0, 32}},
		{in: "A0", want: []int{5, 7}},
		{in: "80000000,00000000,00000000", want: []int{95}},
		{in: "", wantErr: `parse cpu mask "": group 0 is "", want 1 to 8 hex digits`},
		{in: "f,,f", wantErr: `parse cpu mask "f,,f": group 1 is "", want 1 to 8 hex digits`},
		{in: "123456789", wantErr: `parse cpu mask "123456789": group 0 is "123456789", want 1 to 8 hex digits`},
		{in: "0x1", wantErr: `parse cpu mask "0x1": bad hex digit 'x' in group 0`},
		{in: "1" + strings.Repeat(",00000000", 2048), wantErr: `CPU 65536 is beyond 65535`},
	} {
		got, err := parseCPUMask(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.HasSuffix(err.Error(), tc.wantErr) {
				t.Errorf("parseCPUMask(%.40q) error = %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("parseCPUMask(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
		}
	}
}

// maskNaive parses a CPU mask with math/big: the groups joined are one
// hex number.
func maskNaive(s string) ([]int, bool) {
	groups := strings.Split(strings.TrimSpace(s), ",")
	for _, g := range groups {
		if g == "" || len(g) > 8 || strings.ContainsAny(g, "+-xX_") {
			return nil, false
		}
	}
	var hex strings.Builder
	for i, g := range groups {
		if i > 0 {
			hex.WriteString(strings.Repeat("0", 8-len(g)))
		}
		hex.WriteString(g)
	}
	n, ok := new(big.Int).SetString(hex.String(), 16)
	if !ok {
		return nil, false
	}
	cpus := []int{}
	for i := range n.BitLen() {
		if n.Bit(i) == 1 {
			cpus = append(cpus, i)
		}
	}
	return cpus, true
}

func FuzzParseCPUMask(f *testing.F) {
	for _, s := range []string{"0", "f", "00000000,0000000f", "1,00000001", "A0", "f,,f", "0x1", " ff\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseCPUMask(s)
		want, ok := maskNaive(s)
		if ok && len(want) > 0 && want[len(want)-1] >= MaxCPUID {
			ok = false
		}
		if (err == nil) != ok {
			t.Fatalf("parseCPUMask(%q) error %v, naive parser ok %v", s, err, ok)
		}
		if ok && !slices.Equal(got, want) {
			t.Fatalf("parseCPUMask(%q) = %v, naive %v", s, got, want)
		}
	})
}
