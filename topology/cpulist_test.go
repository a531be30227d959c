package topology

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var parseCPUListTests = []struct {
	name    string
	in      string
	want    []int
	wantErr string
}{
	{name: "empty", in: "", want: []int{}},
	{name: "kernel newline only", in: "\n", want: []int{}},
	{name: "single", in: "0", want: []int{0}},
	{name: "range", in: "0-3", want: []int{0, 1, 2, 3}},
	{name: "kernel file", in: "0-2,4-5,7\n", want: []int{0, 1, 2, 4, 5, 7}},
	{name: "one-element range", in: "5-5", want: []int{5}},
	{name: "unsorted and overlapping", in: "8-9,0,2-4,3,9", want: []int{0, 2, 3, 4, 8, 9}},
	{name: "largest id", in: "65535", want: []int{65535}},
	{name: "garbage element", in: "0-3,x", wantErr: `parse cpulist "0-3,x": bad CPU "x"`},
	{name: "descending", in: "3-1", wantErr: `parse cpulist "3-1": descending range "3-1"`},
	{name: "negative", in: "-1", wantErr: `parse cpulist "-1": bad CPU ""`},
	{name: "plus sign", in: "+1", wantErr: `parse cpulist "+1": bad CPU "+1"`},
	{name: "empty element", in: "1,,2", wantErr: `parse cpulist "1,,2": bad CPU ""`},
	{name: "trailing comma", in: "1,", wantErr: `parse cpulist "1,": bad CPU ""`},
	{name: "open range", in: "1-", wantErr: `parse cpulist "1-": bad CPU ""`},
	{name: "double range", in: "1-2-3", wantErr: `parse cpulist "1-2-3": bad CPU "2-3"`},
	{name: "inner space", in: "1, 2", wantErr: `parse cpulist "1, 2": bad CPU " 2"`},
	{name: "stride syntax", in: "0-7:2/4", wantErr: `parse cpulist "0-7:2/4": bad CPU "7:2/4"`},
	{name: "too large", in: "65536", wantErr: `parse cpulist "65536": CPU "65536" out of range 0-65535`},
	{name: "overflow", in: "0-99999999999999999999", wantErr: `parse cpulist "0-99999999999999999999": CPU "99999999999999999999" out of range 0-65535`},
}

func TestParseCPUList(t *testing.T) {
	for _, tc := range parseCPUListTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCPUList(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("ParseCPUList(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.In != tc.in {
					t.Errorf("ParseCPUList(%q) error %#v is not a *ParseError for the input", tc.in, err)
				}
				return
			}
			if err != nil || got == nil || !slices.Equal(got, tc.want) {
				t.Errorf("ParseCPUList(%q) = %#v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestParseErrorPosition(t *testing.T) {
	for _, tc := range []struct {
		in string
		at int
	}{
		{"0-3,x", 4},
		{" 1,2,3-1", 5},
		{"1-x", 2},
		{"\n7,1-2-3", 5},
	} {
		_, err := ParseCPUList(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) || pe.At != tc.at {
			t.Errorf("ParseCPUList(%q) error = %#v, want At %d", tc.in, err, tc.at)
		}
	}
	_, err := ParseCPUList("1-99999999999999999999")
	if !errors.Is(err, strconv.ErrRange) {
		t.Errorf("ParseCPUList of a huge id: error %v does not wrap strconv.ErrRange", err)
	}
}

func TestFormatCPUList(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []int
		want string
	}{
		{"nil", nil, ""},
		{"single", []int{3}, "3"},
		{"pair", []int{3, 4}, "3-4"},
		{"runs", []int{0, 1, 2, 3, 8, 9, 10, 11}, "0-3,8-11"},
		{"unsorted with duplicates", []int{7, 0, 5, 4, 0, 2, 1}, "0-2,4-5,7"},
		{"gaps", []int{0, 2, 4}, "0,2,4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.in)
			if got := FormatCPUList(in); got != tc.want {
				t.Errorf("FormatCPUList(%v) = %q, want %q", tc.in, got, tc.want)
			}
			if !slices.Equal(in, tc.in) {
				t.Errorf("FormatCPUList changed its input to %v", in)
			}
		})
	}
}

// parseNaive is the reference parser: it marks every id of every element
// in a table of all possible ids, with no cleverness.
func parseNaive(s string) ([]int, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return []int{}, true
	}
	var marked [MaxCPUID]bool
	for _, elem := range strings.Split(s, ",") {
		bounds := strings.Split(elem, "-")
		if len(bounds) > 2 {
			return nil, false
		}
		var ends []int
		for _, b := range bounds {
			if b == "" {
				return nil, false
			}
			n := 0
			for _, r := range b {
				if r < '0' || r > '9' {
					return nil, false
				}
				n = min(n*10+int(r-'0'), MaxCPUID)
			}
			if n >= MaxCPUID {
				return nil, false
			}
			ends = append(ends, n)
		}
		lo, hi := ends[0], ends[len(ends)-1]
		if hi < lo {
			return nil, false
		}
		for c := lo; c <= hi; c++ {
			marked[c] = true
		}
	}
	out := []int{}
	for c, ok := range marked {
		if ok {
			out = append(out, c)
		}
	}
	return out, true
}

func FuzzParseCPUList(f *testing.F) {
	for _, tc := range parseCPUListTests {
		f.Add(tc.in)
	}
	f.Add("0-65535,0-65535")
	f.Add("0001-0002")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseCPUList(s)
		want, ok := parseNaive(s)
		if ok != (err == nil) {
			t.Fatalf("ParseCPUList(%q) error = %v, but the naive parser ok = %v", s, err, ok)
		}
		if err != nil {
			return
		}
		if !slices.Equal(got, want) {
			t.Fatalf("ParseCPUList(%q) = %v, naive parser says %v", s, got, want)
		}
		canon := FormatCPUList(got)
		again, err := ParseCPUList(canon)
		if err != nil || !slices.Equal(again, got) {
			t.Fatalf("ParseCPUList(FormatCPUList(%v) = %q) = %v, %v", got, canon, again, err)
		}
		if FormatCPUList(again) != canon {
			t.Fatalf("FormatCPUList is not canonical for %q", canon)
		}
	})
}

func TestParseDistances(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      string
		want    []int
		wantErr string
	}{
		{name: "one node", in: "10\n", want: []int{10}},
		{name: "three nodes", in: "10 21 31\n", want: []int{10, 21, 31}},
		{name: "empty", in: "\n", wantErr: `parse distances "\n": empty row`},
		{name: "garbage", in: "10 x\n", wantErr: `parse distances "10 x\n": bad distance "x"`},
		{name: "zero", in: "0 10", wantErr: `parse distances "0 10": bad distance "0"`},
		{name: "beyond a byte", in: "10 256", wantErr: `parse distances "10 256": bad distance "256"`},
		{name: "signed", in: "+10", wantErr: `parse distances "+10": bad distance "+10"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseDistances(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parseDistances(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("parseDistances(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParseDistances(f *testing.F) {
	f.Add("10 21 31\n")
	f.Add("10")
	f.Add("10  x")
	f.Fuzz(func(t *testing.T, s string) {
		row, err := parseDistances(s)
		if err != nil {
			return
		}
		again, err := parseDistances(joinInts(row))
		if err != nil || !slices.Equal(again, row) {
			t.Fatalf("parseDistances(%q) = %v, but its join parses to %v, %v", s, row, again, err)
		}
	})
}
