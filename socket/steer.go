package socket

import (
	"fmt"
	"slices"

	"golang.org/x/net/bpf"
)

// maxInstructions is the kernel's limit on the length of a classic BPF
// program (BPF_MAXINSNS in include/uapi/linux/bpf_common.h).
const maxInstructions = 4096

// compile returns the classic BPF program that steers a new connection by
// route (see Group.Steer) in a reuseport group whose kernel socket array
// holds, in slot k, the listener slots[k].
//
// The program loads the CPU that processes the SYN (SKF_AD_CPU), walks a
// list of CPU id ranges in ascending order to the block of the range's
// candidate listeners, and there returns a slot: the one candidate's, or
// one picked by the packet's receive hash (SKF_AD_RXHASH) modulo the
// number of candidates. A CPU above the table, or whose candidates are
// all missing from the group, takes the block of every listener.
//
//	ld #cpu
//	jgt #hi0, 1      ; range 0 is [0, hi0]
//	ja  block(range 0)
//	jgt #hi1, 1
//	ja  block(range 1)
//	...              ; falls through into the block of every listener
//	ld #rxhash       ; a block spreading over slots lo..lo+k-1
//	mod #k
//	add #lo
//	ret a
func compile(route [][]int, slots []int) ([]bpf.Instruction, error) {
	if len(slots) == 0 {
		return nil, fmt.Errorf("socket: steering program for an empty group")
	}
	slotOf := map[int]uint32{}
	for k, l := range slots {
		slotOf[l] = uint32(k)
	}
	all := sortedSlots(nil, slotOf, len(slots))
	var blocks [][]uint32 // candidate slots of each block; block 0 is all
	blocks = append(blocks, all)
	type cpuRange struct{ hi, block int }
	var ranges []cpuRange
	for cpu, cands := range route {
		b := blockIndex(&blocks, sortedSlots(cands, slotOf, len(slots)))
		if n := len(ranges); n > 0 && ranges[n-1].block == b {
			ranges[n-1].hi = cpu
			continue
		}
		ranges = append(ranges, cpuRange{hi: cpu, block: b})
	}
	if n := len(ranges); n > 0 && ranges[n-1].block == 0 {
		ranges = ranges[:n-1] // the fall-through does the same
	}

	prog := []bpf.Instruction{bpf.LoadExtension{Num: bpf.ExtCPUID}}
	var jumps []int // index of each range's ja, patched below
	for _, r := range ranges {
		prog = append(prog, bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: uint32(r.hi), SkipTrue: 1})
		jumps = append(jumps, len(prog))
		prog = append(prog, bpf.Jump{})
	}
	start := make([]int, len(blocks))
	for b, cands := range blocks {
		start[b] = len(prog)
		prog = append(prog, pick(cands)...)
	}
	for i, r := range ranges {
		prog[jumps[i]] = bpf.Jump{Skip: uint32(start[r.block] - jumps[i] - 1)}
	}
	if len(prog) > maxInstructions {
		return nil, fmt.Errorf("socket: steering program of %d instructions for %d CPUs exceeds the kernel's limit of %d",
			len(prog), len(route), maxInstructions)
	}
	return prog, nil
}

// sortedSlots returns the slots of the listeners cands that are in the
// group, sorted; every slot if cands is empty or none is in the group.
func sortedSlots(cands []int, slotOf map[int]uint32, n int) []uint32 {
	var s []uint32
	for _, l := range cands {
		if k, ok := slotOf[l]; ok {
			s = append(s, k)
		}
	}
	if len(s) == 0 {
		for k := range n {
			s = append(s, uint32(k))
		}
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// blockIndex returns the index of cands in *blocks, appending it if new.
func blockIndex(blocks *[][]uint32, cands []uint32) int {
	i := slices.IndexFunc(*blocks, func(b []uint32) bool { return slices.Equal(b, cands) })
	if i < 0 {
		i = len(*blocks)
		*blocks = append(*blocks, cands)
	}
	return i
}

// pick returns the instructions that return one of the sorted slots
// cands, spread by the receive hash.
func pick(cands []uint32) []bpf.Instruction {
	k := uint32(len(cands))
	if k == 1 {
		return []bpf.Instruction{bpf.RetConstant{Val: cands[0]}}
	}
	p := []bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtRXHash},
		bpf.ALUOpConstant{Op: bpf.ALUOpMod, Val: k},
	}
	if lo := cands[0]; cands[k-1] == lo+k-1 { // contiguous slots
		if lo > 0 {
			p = append(p, bpf.ALUOpConstant{Op: bpf.ALUOpAdd, Val: lo})
		}
		return append(p, bpf.RetA{})
	}
	for j, slot := range cands[:k-1] {
		p = append(p, bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(j), SkipFalse: 1}, bpf.RetConstant{Val: slot})
	}
	return append(p, bpf.RetConstant{Val: cands[k-1]})
}
