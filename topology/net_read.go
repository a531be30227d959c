package topology

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ReadNetwork reads the network interfaces of the machine whose sysfs is
// mounted at sysRoot and procfs at procRoot (DefaultRoot and
// DefaultProcRoot on a live machine, copies in tests): per interface under
// class/net, its receive queues' RPS masks, and its receive interrupts,
// found among the interrupts of its device (its msi_irqs directory, or its
// parent's for a virtio device) and the interrupts named after it in
// /proc/interrupts, with their /proc/irq/N/smp_affinity_list. Where a
// device's interrupt names mark none as receiving (see isReceiveIRQ), all
// of its interrupts are reported.
//
// A machine without class/net has no interfaces; an interrupt whose
// /proc/irq directory is gone (freed meanwhile) is left out. Any other
// file that is missing or does not parse is an error that names it.
func ReadNetwork(sysRoot, procRoot string) ([]NIC, error) {
	entries, err := os.ReadDir(filepath.Join(sysRoot, "class", "net"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	names, err := readInterruptNames(filepath.Join(procRoot, "interrupts"))
	if err != nil {
		return nil, err
	}
	var nics []NIC
	for _, e := range entries {
		n, err := readNIC(sysRoot, procRoot, e.Name(), names)
		if err != nil {
			return nil, err
		}
		nics = append(nics, n)
	}
	return nics, nil
}

// readNIC reads interface name.
func readNIC(sysRoot, procRoot, name string, irqNames map[int]string) (NIC, error) {
	dir := filepath.Join(sysRoot, "class", "net", name)
	n := NIC{Name: name, Queues: []RxQueue{}, IRQs: []IRQ{}}
	var err error
	if n.Queues, err = readQueues(filepath.Join(dir, "queues")); err != nil {
		return n, err
	}
	irqs, err := deviceIRQs(filepath.Join(dir, "device"))
	if err != nil {
		return n, err
	}
	for irq, s := range irqNames {
		if strings.HasPrefix(s, name+"-") || s == name {
			irqs = append(irqs, irq)
		}
	}
	slices.Sort(irqs)
	irqs = slices.Compact(irqs)
	receive := slices.ContainsFunc(irqs, func(irq int) bool { return isReceiveIRQ(irqNames[irq]) })
	for _, irq := range irqs {
		if receive && !isReceiveIRQ(irqNames[irq]) {
			continue
		}
		cpus, err := readCPUList(filepath.Join(procRoot, "irq", strconv.Itoa(irq), "smp_affinity_list"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return n, err
		}
		n.IRQs = append(n.IRQs, IRQ{IRQ: irq, Name: irqNames[irq], CPUs: cpus})
	}
	return n, nil
}

// readQueues reads the rps_cpus of each rx-N under dir, in queue order.
// A kernel without RPS has no rps_cpus files: RPS is then off.
func readQueues(dir string) ([]RxQueue, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return []RxQueue{}, nil
	}
	if err != nil {
		return nil, err
	}
	queues := []RxQueue{}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "rx-")
		q, err := strconv.Atoi(rest)
		if !ok || err != nil || q < 0 {
			continue // tx-N
		}
		rq := RxQueue{Queue: q, RPSCPUs: []int{}}
		name := filepath.Join(dir, e.Name(), "rps_cpus")
		data, err := os.ReadFile(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if rq.RPSCPUs, err = parseCPUMask(string(data)); err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
		}
		queues = append(queues, rq)
	}
	slices.SortFunc(queues, func(a, b RxQueue) int { return a.Queue - b.Queue })
	return queues, nil
}

// deviceIRQs lists the MSI interrupts of the device at dev (a link to the
// device's directory), or for a device on the virtio bus (virtioN) of its
// parent PCI device, which holds them. A virtual interface has no device:
// no interrupts.
func deviceIRQs(dev string) ([]int, error) {
	real, err := filepath.EvalSymlinks(dev)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	dirs := []string{real}
	if strings.HasPrefix(filepath.Base(real), "virtio") {
		dirs = append(dirs, filepath.Dir(real))
	}
	for _, d := range dirs {
		entries, err := os.ReadDir(filepath.Join(d, "msi_irqs"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		var irqs []int
		for _, e := range entries {
			if irq, err := strconv.Atoi(e.Name()); err == nil {
				irqs = append(irqs, irq)
			}
		}
		return irqs, nil
	}
	return nil, nil
}

// readInterruptNames reads /proc/interrupts: the name of each numbered
// interrupt.
func readInterruptNames(name string) (map[int]string, error) {
	return readParsed(name, parseInterrupts)
}

// parseInterrupts parses the text of /proc/interrupts: a header naming
// the CPUs, then a line per interrupt, "IRQ: count per CPU, chip, hardware
// IRQ and trigger, name". It returns the name of each numbered interrupt:
// the last field of its line, or "" where the line has none beyond the
// counts (an interrupt with no handler). Lines of architecture interrupts
// (NMI:, LOC:, ...) are skipped.
func parseInterrupts(s string) (map[int]string, error) {
	lines := strings.Split(s, "\n")
	ncpu := len(strings.Fields(lines[0]))
	if ncpu == 0 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "CPU") {
		return nil, fmt.Errorf("parse interrupts: header %q does not name CPUs", lines[0])
	}
	names := map[int]string{}
	for i, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		label, ok := strings.CutSuffix(fields[0], ":")
		if !ok {
			return nil, fmt.Errorf("parse interrupts: line %d %q: no IRQ label", i+2, line)
		}
		irq, err := strconv.Atoi(label)
		if err != nil || strconv.Itoa(irq) != label {
			continue // NMI, LOC, ...
		}
		if irq < 0 {
			return nil, fmt.Errorf("parse interrupts: line %d %q: negative IRQ", i+2, line)
		}
		names[irq] = ""
		if len(fields) > 1+ncpu {
			names[irq] = fields[len(fields)-1]
		}
	}
	return names, nil
}
