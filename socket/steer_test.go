package socket

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/bpf"

	"github.com/corekv/corekv/topology"
)

// execute runs prog, a classic BPF program of the instructions compile
// emits, for a SYN processed on cpu with receive hash rxhash, and returns
// its result. x/net/bpf's VM does not run extensions, hence this one. It
// runs the program as the kernel gets it: assembled, then decoded again.
func execute(t *testing.T, prog []bpf.Instruction, cpu, rxhash uint32) uint32 {
	t.Helper()
	raw, err := bpf.Assemble(prog)
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	decoded, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("Disassemble: an instruction did not decode: %v", decoded)
	}
	var a uint32
	for pc := 0; pc < len(decoded); pc++ {
		switch ins := decoded[pc].(type) {
		case bpf.LoadExtension:
			a = map[bpf.Extension]uint32{bpf.ExtCPUID: cpu, bpf.ExtRXHash: rxhash}[ins.Num]
			if ins.Num != bpf.ExtCPUID && ins.Num != bpf.ExtRXHash {
				t.Fatalf("pc %d: unexpected extension %v", pc, ins)
			}
		case bpf.JumpIf:
			if jumpTest(t, ins.Cond, a, ins.Val) {
				pc += int(ins.SkipTrue)
			} else {
				pc += int(ins.SkipFalse)
			}
		case bpf.Jump:
			pc += int(ins.Skip)
		case bpf.ALUOpConstant:
			switch ins.Op {
			case bpf.ALUOpMod:
				a %= ins.Val
			case bpf.ALUOpAdd:
				a += ins.Val
			default:
				t.Fatalf("pc %d: unexpected ALU op %v", pc, ins)
			}
		case bpf.RetConstant:
			return ins.Val
		case bpf.RetA:
			return a
		default:
			t.Fatalf("pc %d: unexpected instruction %v", pc, ins)
		}
	}
	t.Fatalf("program of %d instructions ran off its end", len(decoded))
	return 0
}

func jumpTest(t *testing.T, cond bpf.JumpTest, a, v uint32) bool {
	t.Helper()
	switch cond {
	case bpf.JumpEqual:
		return a == v
	case bpf.JumpNotEqual:
		return a != v
	case bpf.JumpGreaterThan:
		return a > v
	case bpf.JumpLessThan:
		return a < v
	case bpf.JumpGreaterOrEqual:
		return a >= v
	case bpf.JumpLessOrEqual:
		return a <= v
	}
	t.Fatalf("unexpected jump condition %v", cond)
	return false
}

// steerAll returns, for each CPU, the slots prog returns for the receive
// hashes 0 to hashes-1, sorted and without repeats.
func steerAll(t *testing.T, prog []bpf.Instruction, cpus, hashes int) [][]uint32 {
	t.Helper()
	got := make([][]uint32, cpus)
	for c := range cpus {
		for h := range hashes {
			got[c] = append(got[c], execute(t, prog, uint32(c), uint32(h)))
		}
		slices.Sort(got[c])
		got[c] = slices.Compact(got[c])
	}
	return got
}

func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route [][]int
		slots []int
		want  [][]uint32 // per CPU, 0 to len(want)-1: the slots reached
		size  int        // instructions
	}{
		{
			name:  "one listener per CPU",
			route: [][]int{{0}, {1}}, slots: []int{0, 1},
			want: [][]uint32{{0}, {1}, {0, 1}, {0, 1}}, size: 10,
		},
		{
			name:  "one listener per CPU, kernel order swapped",
			route: [][]int{{0}, {1}}, slots: []int{1, 0},
			want: [][]uint32{{1}, {0}, {0, 1}},
		},
		{
			name:  "node of CPUs 0-3 with two listeners, CPUs 4-5 with one",
			route: [][]int{{0}, {1}, {0, 1}, {0, 1}, {2}, {2}}, slots: []int{0, 1, 2},
			want: [][]uint32{{0}, {1}, {0, 1}, {0, 1}, {2}, {2}, {0, 1, 2}},
		},
		{
			name:  "scattered slots after reopens use a lookup chain",
			route: [][]int{{0, 2}, {0, 2}, {1}}, slots: []int{2, 1, 0},
			want: [][]uint32{{0, 2}, {0, 2}, {1}, {0, 1, 2}},
		},
		{
			name:  "contiguous slots not at zero",
			route: [][]int{{0}, {1, 2}}, slots: []int{0, 1, 2},
			want: [][]uint32{{0}, {1, 2}, {0, 1, 2}},
		},
		{
			name:  "listeners missing from the group count as absent",
			route: [][]int{{5}, {0, 7}}, slots: []int{0, -1, 1},
			want: [][]uint32{{0, 1, 2}, {0}},
		},
		{
			name:  "empty table: every CPU spreads",
			route: nil, slots: []int{0, 1, 2},
			want: [][]uint32{{0, 1, 2}, {0, 1, 2}}, size: 4,
		},
		{
			name:  "a group of one",
			route: [][]int{{0}, {0}}, slots: []int{0},
			want: [][]uint32{{0}, {0}, {0}}, size: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog, err := compile(tc.route, tc.slots)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if got := steerAll(t, prog, len(tc.want), 12); !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("compile(%v, slots %v) steers CPUs to %v, want %v\n%s", tc.route, tc.slots, got, tc.want, listing(prog))
			}
			if tc.size > 0 && len(prog) != tc.size {
				t.Errorf("compile(%v, slots %v) = %d instructions, want %d\n%s", tc.route, tc.slots, len(prog), tc.size, listing(prog))
			}
		})
	}
}

func listing(prog []bpf.Instruction) string {
	var b strings.Builder
	for i, ins := range prog {
		fmt.Fprintf(&b, "%3d  %v\n", i, ins)
	}
	return b.String()
}

func TestCompileErrors(t *testing.T) {
	if _, err := compile([][]int{{0}}, nil); err == nil || err.Error() != "socket: steering program for an empty group" {
		t.Errorf("compile for no slots: error %v", err)
	}
	const cpus = 2100 // a listener each: 1 + 2*2100 for the ranges, 3 + 2100 for the blocks
	route := make([][]int, cpus)
	slots := make([]int, cpus)
	for i := range cpus {
		route[i], slots[i] = []int{i}, i
	}
	_, err := compile(route, slots)
	want := "socket: steering program of 6304 instructions for 2100 CPUs exceeds the kernel's limit of 4096"
	if err == nil || err.Error() != want {
		t.Errorf("compile of %d CPUs: error %v, want %q", cpus, err, want)
	}
}

// TestCompileFixtures compiles topology.Route for plans on the fixture
// machines, in join order and in a scrambled kernel order, and checks
// that every CPU reaches exactly its candidate listeners, and that a CPU
// beyond the table reaches every listener.
func TestCompileFixtures(t *testing.T) {
	shapes, err := filepath.Glob("../topology/testdata/*/sys")
	if err != nil || len(shapes) == 0 {
		t.Fatalf("no fixture trees: %v", err)
	}
	for _, dir := range shapes {
		m, err := topology.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		online := m.Online()
		for _, usable := range [][]int{online, m.Nodes[0].CPUs, online[len(online)-1:]} {
			for _, n := range []int{len(usable), (len(usable) + 1) / 2} {
				plan, err := topology.Plan(m, usable, n)
				if err != nil {
					t.Fatal(err)
				}
				name := fmt.Sprintf("%s, shards on %v", filepath.Base(filepath.Dir(dir)), plan)
				checkSteering(t, name, topology.Route(m, plan), len(plan))
			}
		}
	}
}

func checkSteering(t *testing.T, name string, route [][]int, n int) {
	t.Helper()
	joined := make([]int, n)
	for i := range joined {
		joined[i] = i
	}
	scrambled := slices.Clone(joined)
	for i := range scrambled { // a fixed permutation: rotate by one, reverse
		scrambled[i] = (i + 1) % n
	}
	slices.Reverse(scrambled)
	for _, slots := range [][]int{joined, scrambled} {
		prog, err := compile(route, slots)
		if err != nil {
			t.Fatalf("%s: compile: %v", name, err)
		}
		got := steerAll(t, prog, len(route)+2, 3*n)
		for c := range got {
			var want []uint32 // the slots of the CPU's candidates
			for k, l := range slots {
				if c >= len(route) || slices.Contains(route[c], l) {
					want = append(want, uint32(k))
				}
			}
			if !slices.Equal(got[c], want) {
				t.Errorf("%s, slots %v: CPU %d steered to slots %v, want %v (listeners %v)",
					name, slots, c, got[c], want, route[min(c, len(route)-1)])
			}
		}
	}
}
