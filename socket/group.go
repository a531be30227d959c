package socket

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"

	"golang.org/x/net/bpf"
)

// Group is a reuseport group: the listeners of the shards, all on one
// address, with the order in which the kernel holds them.
//
// The kernel keeps the group's listening sockets in an array, in the order
// they called listen, and a steering program (Steer) returns an index into
// that array. When a listener closes, the kernel moves the last socket of
// the array into its slot: reuseport_detach_sock in
// net/core/sock_reuseport.c does
//
//	reuse->num_socks--;
//	reuse->socks[i] = reuse->socks[reuse->num_socks];
//
// (Linux 5.14 to 6.18; with net.ipv4.tcp_migrate_req set the closed socket
// then moves to a separate tail of the array, which the program's indexes
// do not reach). A new listener is appended at reuse->socks[num_socks] by
// reuseport_add_sock. Group models both moves, so a program compiled from
// its model indexes the sockets the kernel actually holds.
//
// The model assumes each Listener's FD is the only descriptor of its
// socket: a descriptor duplicated by NetListener keeps the socket in the
// kernel's array after Close.
type Group struct {
	// Listeners holds the listeners by shard: Listeners[i] serves shard
	// i. Reopen replaces an entry; read it only from the goroutine that
	// calls Reopen.
	Listeners []*Listener

	cfg       Config
	ap        netip.AddrPort
	dual      bool
	somaxconn int

	mu    sync.Mutex  // guards slots and route; Listener.Close takes it
	slots []*Listener // the kernel's socket array, slot by slot
	route [][]int     // the steering table Steer attached; nil: none
}

// Steer attaches to g a classic BPF program (SO_ATTACH_REUSEPORT_CBPF)
// that picks the listener of each new connection from the CPU that
// processes its SYN: route[c] lists the indexes into g.Listeners that may
// take a connection arriving on CPU c, and the program spreads over them
// by the packet's receive hash. A CPU beyond route, or whose list is
// empty, spreads over every listener. topology.Route computes such a
// table from the shard plan.
//
// If the kernel refuses the program (before Linux 4.5, or under a seccomp
// filter; the error then satisfies errors.Is with unix.EINVAL,
// unix.ENOPROTOOPT or unix.EPERM), g keeps the kernel's hash of the
// connection's addresses and ports, and Steer returns the error.
func (g *Group) Steer(route [][]int) error {
	for c, cands := range route {
		for _, l := range cands {
			if l < 0 || l >= len(g.Listeners) {
				return fmt.Errorf("socket: steer: CPU %d to listener %d of a group of %d", c, l, len(g.Listeners))
			}
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.route = route
	return g.attach()
}

// attach compiles g.route for the current slots and attaches it; on
// failure it leaves the group without a program. The caller holds g.mu.
func (g *Group) attach() error {
	if g.route == nil {
		return nil
	}
	err := g.compileAndAttach()
	if err != nil {
		g.route = nil
		if len(g.slots) > 0 {
			detachImpl(g.slots[0].FD) // the stale program, if any; ENOENT if none
		}
	}
	return err
}

func (g *Group) compileAndAttach() error {
	if len(g.slots) == 0 {
		return errors.New("socket: steer: no open listener in the group")
	}
	prog, err := compile(g.route, g.slotIndexes())
	if err != nil {
		return err
	}
	raw, err := bpf.Assemble(prog)
	if err != nil {
		return fmt.Errorf("socket: assemble steering program: %w", err)
	}
	return attachImpl(g.slots[0].FD, raw)
}

// slotIndexes returns, for each slot of the kernel's array, the index in
// g.Listeners of the listener it holds, or -1 for one Reopen replaced.
func (g *Group) slotIndexes() []int {
	idx := make([]int, len(g.slots))
	for k, l := range g.slots {
		idx[k] = slices.Index(g.Listeners, l)
	}
	return idx
}

// leave takes l out of the model as the kernel does when l closes: the
// last slot moves into l's. The caller holds g.mu.
func (g *Group) leave(l *Listener) {
	k := slices.Index(g.slots, l)
	if k < 0 {
		return
	}
	last := len(g.slots) - 1
	g.slots[k] = g.slots[last]
	g.slots = g.slots[:last]
}

// Reopen replaces Listeners[i] with a new listener on the same address,
// for a listener that failed or was closed, and returns it. If the old
// listener is still open, Reopen opens the new one first and then closes
// the old one, so that the kernel moves the new socket into the old one's
// slot and the group never has fewer listeners than before. The steering
// program, if any, is compiled again for the new order and re-attached.
//
// Connections waiting in the old listener's accept queue are lost (unless
// net.ipv4.tcp_migrate_req is set). If the new listener cannot be opened,
// Reopen returns the error and leaves g as it was. If the program cannot be
// re-attached, Reopen detaches it, so that the kernel's hash takes over,
// and returns the new listener together with the error.
//
// Reopen must not run concurrently with itself or Steer.
func (g *Group) Reopen(i int) (*Listener, error) {
	if i < 0 || i >= len(g.Listeners) {
		return nil, fmt.Errorf("socket: reopen listener %d of a group of %d", i, len(g.Listeners))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.Listeners[i]
	l, err := g.join()
	if err != nil {
		return nil, err
	}
	g.Listeners = g.Listeners[:len(g.Listeners)-1] // join appended l
	g.Listeners[i] = l
	if err := old.closeLocked(); err != nil && !errors.Is(err, net.ErrClosed) {
		return l, fmt.Errorf("socket: reopen listener %d: close the old one: %w", i, err)
	}
	return l, g.attach()
}
