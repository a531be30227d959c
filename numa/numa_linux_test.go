package numa

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/topology"
)

// liveMapper returns a Mapper for this machine, skipping where the kernel
// refuses memory policies (a seccomp filter).
func liveMapper(t *testing.T, p Policy) *Mapper {
	t.Helper()
	m, err := topology.Read(topology.DefaultRoot)
	if err != nil {
		t.Skipf("cannot read the topology: %v", err)
	}
	mp, err := New(Config{Policy: p, Machine: m})
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("memory policies refused here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// mapped maps pages pages for node and unmaps them when the test ends.
func mapped(t *testing.T, mp *Mapper, pages, node int) []byte {
	t.Helper()
	b, err := mp.Map(pages*os.Getpagesize(), node)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mp.Unmap(b) })
	return b
}

// touch writes one byte in each of the first n pages of b.
func touch(b []byte, n int) {
	for i := range n {
		b[i*os.Getpagesize()] = 1
	}
}

// TestMapPlaces maps memory under each policy and checks, through the
// kernel, the policy recorded for it and where its written pages are.
// This machine may have one node; the VM suite checks several.
func TestMapPlaces(t *testing.T) {
	tests := []struct {
		name      string
		policy    Policy
		node      int
		wantNodes func(mp *Mapper) []int
	}{
		{"off", Off, 0, func(*Mapper) []int { return nil }},
		{"interleave over every memory node", Interleave, -1, (*Mapper).Nodes},
		{"local on node 0", Local, 0, func(*Mapper) []int { return []int{0} }},
	}
	const pages = 64
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mp := liveMapper(t, tc.policy)
			b := mapped(t, mp, pages, tc.node)
			p, nodes, err := PolicyOf(b)
			if err != nil || p != tc.policy || !slices.Equal(nodes, tc.wantNodes(mp)) {
				t.Errorf("PolicyOf(Map) = %v %v, %v, want %v %v", p, nodes, err, tc.policy, tc.wantNodes(mp))
			}
			touch(b, pages)
			pl, err := Where(b)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for n, c := range pl.Pages {
				sum += c
				if tc.policy != Off && !slices.Contains(mp.Nodes(), n) {
					t.Errorf("Where: %d pages on node %d, outside %v", c, n, mp.Nodes())
				}
			}
			if sum != pages || pl.Absent != 0 || pl.PageSize != os.Getpagesize() {
				t.Errorf("Where(%d written pages) = %+v", pages, pl)
			}
			if n, err := NodeOf(b); err != nil || pl.Pages[n] == 0 {
				t.Errorf("NodeOf(Map) = %d, %v; Where says %v", n, err, pl.Pages)
			}
		})
	}
}

// TestInterleaveEven checks the spread on this machine's memory nodes: each
// gets the same number of pages, within one.
func TestInterleaveEven(t *testing.T) {
	mp := liveMapper(t, Interleave)
	const pages = 257
	b := mapped(t, mp, pages, 0)
	touch(b, pages)
	pl, err := Where(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range mp.Nodes() {
		if c := pl.Pages[n]; c < pages/len(mp.Nodes()) || c > pages/len(mp.Nodes())+1 {
			t.Errorf("node %d holds %d of %d pages over %d nodes: %v", n, c, pages, len(mp.Nodes()), pl.Pages)
		}
	}
}

// TestWhereUntouched checks that Where tells written pages from pages
// never touched and pages only read, which map the zero page.
func TestWhereUntouched(t *testing.T) {
	mp := liveMapper(t, Local)
	const pages = 40
	b := mapped(t, mp, pages, 0)
	pl, err := Where(b)
	if err != nil || pl.Absent != pages || len(pl.Pages) != 0 {
		t.Fatalf("Where(untouched) = %+v, %v, want %d absent", pl, err, pages)
	}
	touch(b, 10)
	sum := 0
	for i := 10; i < 20; i++ { // read only
		sum += int(b[i*os.Getpagesize()])
	}
	pl, err = Where(b)
	if err != nil || pl.Absent != pages-10 || pl.Pages[0] != 10 || sum != 0 {
		t.Errorf("Where(10 written, 10 read) = %+v, %v, want 10 on node 0 and %d absent", pl, err, pages-10)
	}
	// An unaligned range covers every page it touches: 2 here.
	pl, err = Where(b[os.Getpagesize()-1 : os.Getpagesize()+1])
	if err != nil || pl.Pages[0] != 2 {
		t.Errorf("Where(2 bytes across a page boundary) = %+v, %v, want 2 pages", pl, err)
	}
}

// TestWhereBatches checks a range longer than one move_pages batch.
func TestWhereBatches(t *testing.T) {
	mp := liveMapper(t, Off)
	pages := 2*whereBatch + 3
	b := mapped(t, mp, pages, -1)
	touch(b, pages-1)
	pl, err := Where(b)
	sum := 0
	for _, c := range pl.Pages {
		sum += c
	}
	if err != nil || sum != pages-1 || pl.Absent != 1 {
		t.Errorf("Where(%d pages, the last untouched) = %+v, %v", pages, pl, err)
	}
}

func TestSysErr(t *testing.T) {
	tests := []struct {
		errno           unix.Errno
		wantUnsupported bool
		wantText        string
	}{
		{unix.EPERM, true, "numa: mbind: operation not permitted: unsupported operation"},
		{unix.ENOSYS, true, "numa: mbind: function not implemented: unsupported operation"},
		{unix.EINVAL, false, "numa: mbind: invalid argument"},
		{unix.ENOMEM, false, "numa: mbind: cannot allocate memory"},
	}
	for _, tc := range tests {
		err := sysErr("mbind", tc.errno)
		if errors.Is(err, errors.ErrUnsupported) != tc.wantUnsupported || !errors.Is(err, tc.errno) || err.Error() != tc.wantText {
			t.Errorf("sysErr(mbind, %v) = %q (unsupported %v), want %q (unsupported %v)",
				tc.errno, err, errors.Is(err, errors.ErrUnsupported), tc.wantText, tc.wantUnsupported)
		}
	}
}

func TestNodeMask(t *testing.T) {
	tests := [][]int{nil, {0}, {0, 1, 2, 3}, {63, 64}, {5, 200, MaxNode - 1}}
	for _, nodes := range tests {
		if got := maskOf(nodes).nodes(); !slices.Equal(got, nodes) {
			t.Errorf("maskOf(%v).nodes() = %v", nodes, got)
		}
	}
}

// TestMemsAllowed checks the cpuset's nodes against /proc/self/status.
func TestMemsAllowed(t *testing.T) {
	got, err := memsAllowed()
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "Mems_allowed_list:"); ok {
			want, err := topology.ParseCPUList(strings.TrimSpace(v))
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("memsAllowed() = %v, /proc/self/status says %q", got, v)
			}
			return
		}
	}
	t.Skip("no Mems_allowed_list in /proc/self/status")
}

// TestResident checks Resident's per-node bytes against the pages
// written, before and after Unmap, and Unmap's refusals.
func TestResident(t *testing.T) {
	mp := liveMapper(t, Local)
	ps := os.Getpagesize()
	a, err := mp.Map(16*ps, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := mapped(t, mp, 8, 0)
	touch(a, 16)
	touch(b, 3)
	if got, err := mp.Resident(); err != nil || got[0] != int64(19*ps) || len(got) != 1 {
		t.Errorf("Resident() = %v, %v, want %d bytes on node 0", got, err, 19*ps)
	}
	if err := mp.Unmap(a); err != nil {
		t.Fatal(err)
	}
	if got, err := mp.Resident(); err != nil || got[0] != int64(3*ps) {
		t.Errorf("Resident() after Unmap = %v, %v, want %d bytes on node 0", got, err, 3*ps)
	}
	foreign := make([]byte, ps)
	for name, r := range map[string][]byte{"twice": a, "not from Map": foreign, "part of a mapping": b[:ps]} {
		if err := mp.Unmap(r); err == nil || !strings.Contains(err.Error(), "not a mapping Map returned") {
			t.Errorf("Unmap(%s) = %v, want a refusal", name, err)
		}
	}
}

// TestWhereStride checks the sampled query Resident uses on large sizes:
// every stride-th page from the first, the last partial stride included.
func TestWhereStride(t *testing.T) {
	mp := liveMapper(t, Off)
	b := mapped(t, mp, 300, -1)
	touch(b, 150)
	pl, err := whereImpl(b, 7)
	// Pages 0, 7, ..., 294: 43 queried, 22 of them (0..147) written.
	if err != nil || pl.Absent != 21 || len(pl.Pages) != 1 || sum(pl.Pages) != 22 {
		t.Errorf("whereImpl(300 pages, 150 written, stride 7) = %+v, %v, want 22 present, 21 absent", pl, err)
	}
}

func sum(m map[int]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

func BenchmarkWhere(b *testing.B) {
	mp, err := New(Config{})
	if err != nil {
		b.Skip(err)
	}
	const pages = 16384 // 64 MiB
	mem, err := mp.Map(pages*os.Getpagesize(), -1)
	if err != nil {
		b.Fatal(err)
	}
	defer mp.Unmap(mem)
	touch(mem, pages)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Where(mem); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pages, "ns/page")
}
