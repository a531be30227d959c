package loadgen

import (
	"reflect"
	"testing"
)

func TestShares(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cpus  []int
		conns int
		rate  float64
		want  []share
	}{
		{name: "even", cpus: []int{0, 1}, conns: 4, rate: 1000, want: []share{{0, 2, 500}, {1, 2, 500}}},
		{name: "remainder to the first CPUs", cpus: []int{2, 5, 7}, conns: 4, rate: 400,
			want: []share{{2, 2, 200}, {5, 1, 100}, {7, 1, 100}}},
		{name: "fewer connections than CPUs", cpus: []int{0, 1, 2}, conns: 2, rate: 0, want: []share{{0, 1, 0}, {1, 1, 0}}},
	} {
		if got := shares(tc.cpus, tc.conns, tc.rate); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: shares(%v, %d, %v) = %v, want %v", tc.name, tc.cpus, tc.conns, tc.rate, got, tc.want)
		}
	}
}
