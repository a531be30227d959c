// Package numa places memory that corekv maps itself on NUMA nodes, by
// giving each mapping an mbind(2) memory policy before its first touch.
//
// The vocabulary is package topology's: a Node is a NUMA node, and a
// memory node is one the kernel lists in has_memory. The Go heap is not
// placed: only memory that Mapper.Map returns is.
package numa

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"github.com/corekv/corekv/topology"
)

// MaxNode bounds the node ids a Mapper handles: the size in bits of the
// node masks it passes to the kernel, the kernel's largest MAX_NUMNODES.
const MaxNode = 1024

// Config configures a Mapper. The zero value maps memory with no policy.
type Config struct {
	// Policy places the memory Map returns. Default Off.
	Policy Policy
	// Machine gives the nodes, which of them have memory and their
	// distances. Required unless Policy is Off.
	Machine *topology.Machine
}

// Mapper maps anonymous memory and gives it the configured policy before
// anything touches it. It is safe for concurrent use.
type Mapper struct {
	policy Policy
	// mem lists the memory nodes the process may use, sorted.
	mem []int
	// home maps each node of the machine to the memory node Local puts
	// its memory on.
	home map[int]int

	mu     sync.Mutex
	mapped map[*byte][]byte // what Map returned and Unmap has not released
}

// New checks that the kernel applies memory policies here and returns a
// Mapper for cfg. Where the kernel refuses them (mbind or get_mempolicy
// fail with EPERM, as under a container's seccomp filter, or ENOSYS), the
// error wraps errors.ErrUnsupported and the errno: the caller can warn
// and fall back to a Mapper with Policy Off.
func New(cfg Config) (*Mapper, error) {
	m := &Mapper{policy: cfg.Policy}
	switch cfg.Policy {
	case Off:
		return m, newImpl(m)
	case Interleave, Local:
	default:
		return nil, fmt.Errorf("numa: unknown policy %v", cfg.Policy)
	}
	if cfg.Machine == nil {
		return nil, fmt.Errorf("numa: policy %v needs Config.Machine", cfg.Policy)
	}
	allowed, err := memsAllowed()
	if err != nil {
		return nil, err
	}
	if m.mem, m.home, err = homes(cfg.Machine, allowed); err != nil {
		return nil, err
	}
	return m, newImpl(m)
}

// Policy returns the policy the Mapper applies.
func (m *Mapper) Policy() Policy { return m.policy }

// Nodes returns the memory nodes the Mapper places memory on, sorted;
// nil for Policy Off.
func (m *Mapper) Nodes() []int { return slices.Clone(m.mem) }

// Home returns the memory node that Local places the memory of node on:
// node itself when it has memory the process may use, else the nearest
// such node. For Policy Off, and for node -1, it returns -1: no node.
func (m *Mapper) Home(node int) (int, error) {
	if m.policy == Off || node == -1 {
		return -1, nil
	}
	h, ok := m.home[node]
	if !ok {
		return 0, fmt.Errorf("numa: no node %d on this machine", node)
	}
	return h, nil
}

// Map returns size bytes of new anonymous memory, readable and writable,
// for a user on node (-1: no preference), placed by the policy:
// Interleave spreads it over every memory node whatever node is, Local
// prefers Home(node) (with no policy for node -1), and Off leaves it to
// the first touch. Release it with Unmap, or, where Resident is never
// called, with unix.Munmap. Map has the signature of store.Config.Map.
func (m *Mapper) Map(size, node int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("numa: map %d bytes: want a positive size", size)
	}
	home, err := m.Home(node)
	if err != nil {
		return nil, err
	}
	if m.policy == Interleave {
		home = -1
	}
	b, err := m.mapImpl(size, home)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mapped == nil {
		m.mapped = map[*byte][]byte{}
	}
	m.mapped[&b[0]] = b
	return b, nil
}

// Unmap releases memory that Map returned.
func (m *Mapper) Unmap(b []byte) error {
	if len(b) == 0 {
		return errors.New("numa: unmap an empty range")
	}
	m.mu.Lock()
	mem, ok := m.mapped[&b[0]]
	delete(m.mapped, &b[0])
	m.mu.Unlock()
	if !ok || len(mem) != len(b) {
		return fmt.Errorf("numa: unmap %d bytes at %p: not a mapping Map returned", len(b), &b[0])
	}
	return unmapImpl(b)
}

// residentBudget is the most pages Resident queries in one call: about
// 30 ms at the 430 ns a page move_pages took on a 2-vCPU VM.
const residentBudget = 1 << 16

// Resident returns how many bytes of the memory Map returned are
// resident on each node, as the kernel reports them page by page
// (move_pages): where interleaved memory, or memory placed by first
// touch, really is, which the node a mapping was made for does not say.
// Up to 65536 pages (256 MiB of 4 KiB pages) it queries every page;
// beyond, every p-th page, p the least prime ≥ 67 that keeps the query
// within 65536 pages, and counts each page found for p: an estimate,
// but an even one for interleaving, whose period (the number of nodes,
// up to 64) p cannot divide.
func (m *Mapper) Resident() (map[int]int64, error) {
	m.mu.Lock()
	mapped := make([][]byte, 0, len(m.mapped))
	total := 0
	for _, b := range m.mapped {
		mapped = append(mapped, b)
		total += (len(b) + os.Getpagesize() - 1) / os.Getpagesize()
	}
	m.mu.Unlock()
	stride := sampleStride(total)
	bytes := map[int]int64{}
	for _, b := range mapped {
		pl, err := whereImpl(b, stride)
		if err != nil {
			return nil, err
		}
		for n, c := range pl.Pages {
			bytes[n] += int64(c) * int64(stride) * int64(pl.PageSize)
		}
	}
	return bytes, nil
}

// sampleStride returns 1 for up to residentBudget pages, else the least
// prime p ≥ 67 with pages/p ≤ residentBudget.
func sampleStride(pages int) int {
	if pages <= residentBudget {
		return 1
	}
	p := max(67, (pages+residentBudget-1)/residentBudget)
	for !isPrime(p) {
		p++
	}
	return p
}

func isPrime(n int) bool {
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return n >= 2
}

// Placement counts the pages of a range of memory by the node that holds
// them.
type Placement struct {
	// Pages maps a node id to the number of pages of the range on it.
	Pages map[int]int
	// Absent counts pages that no memory backs yet: never touched, or
	// only read, which maps the shared zero page.
	Absent int
	// PageSize is the size of one page in bytes.
	PageSize int
}

// Where queries the kernel for the node of every page of b with
// move_pages(2) in query mode. Memory must be written before the answer
// means anything: untouched or only-read pages count as Absent.
func Where(b []byte) (Placement, error) {
	if len(b) == 0 {
		return Placement{}, errors.New("numa: where: empty range")
	}
	return whereImpl(b, 1)
}

// NodeOf returns the node that holds the page of b[0], by
// get_mempolicy(MPOL_F_NODE|MPOL_F_ADDR). Write the page first: on an
// untouched page the kernel faults it in as if read, which for anonymous
// memory maps the zero page, and the answer means nothing.
func NodeOf(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("numa: node of an empty range")
	}
	return nodeOfImpl(b)
}

// PolicyOf returns the policy of the mapping that holds b[0] and its
// nodes, by get_mempolicy(MPOL_F_ADDR): what the kernel recorded for the
// memory, whoever set it.
func PolicyOf(b []byte) (Policy, []int, error) {
	if len(b) == 0 {
		return Off, nil, errors.New("numa: policy of an empty range")
	}
	return policyOfImpl(b)
}
