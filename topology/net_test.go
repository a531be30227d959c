package topology

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// The network trees of the 2s-smt and 4node fixtures are synthetic (the
// QEMU snapshots hold only devices/system), laid out as real kernels lay
// them out: 2s-smt has a 4-queue ixgbe-style NIC whose receive
// interrupts are named eth0-TxRx-N, pinned to CPUs 0, 2, 4 and 6, plus
// its link interrupt "eth0"; 4node has a virtio-net NIC, as on this
// project's build machine, whose MSI-X interrupts belong to the parent
// PCI device, with its input interrupt on CPUs 2-3 and RPS to CPUs 4-5.

func readNetworkFixture(t *testing.T, shape string) (*Machine, []NIC) {
	t.Helper()
	dir := filepath.Join("testdata", shape)
	m, err := Read(filepath.Join(dir, "sys"))
	if err != nil {
		t.Fatal(err)
	}
	nics, err := ReadNetwork(filepath.Join(dir, "sys"), filepath.Join(dir, "proc"))
	if err != nil {
		t.Fatal(err)
	}
	return m, nics
}

func TestNetworkReportFixtures(t *testing.T) {
	for _, tc := range []struct {
		shape     string
		usable    []int
		nic       string
		wantCPUs  []int
		wantNodes []int
	}{
		{shape: "2s-smt", usable: []int{0, 1, 2, 3, 4, 5, 6, 7}, nic: "eth0", wantCPUs: []int{}, wantNodes: []int{}},
		{shape: "2s-smt", usable: []int{0, 1, 2, 3}, nic: "eth0", wantCPUs: []int{4, 6}, wantNodes: []int{1}},
		{shape: "2s-smt", usable: []int{0, 4}, nic: "eth0", wantCPUs: []int{2, 6}, wantNodes: []int{}},
		{shape: "4node", usable: []int{0, 1}, nic: "ens3", wantCPUs: []int{2, 3, 4, 5}, wantNodes: []int{1, 2}},
		{shape: "4node", usable: []int{2, 4, 5}, nic: "ens3", wantCPUs: []int{3}, wantNodes: []int{}},
		{shape: "4node", usable: []int{0, 1}, nic: "lo", wantCPUs: []int{}, wantNodes: []int{}},
	} {
		m, nics := readNetworkFixture(t, tc.shape)
		plan, err := Plan(m, tc.usable, 0)
		if err != nil {
			t.Fatal(err)
		}
		var got *NIC
		for _, n := range NetworkReport(nics, m, plan) {
			if n.Name == tc.nic {
				got = &n
			}
		}
		if got == nil {
			t.Fatalf("%s: no interface %s in %v", tc.shape, tc.nic, nics)
		}
		if !reflect.DeepEqual(got.UnservedCPUs, tc.wantCPUs) || !reflect.DeepEqual(got.UnservedNodes, tc.wantNodes) {
			t.Errorf("%s, shards on %v: %s unserved CPUs %v nodes %v, want %v and %v",
				tc.shape, tc.usable, tc.nic, got.UnservedCPUs, got.UnservedNodes, tc.wantCPUs, tc.wantNodes)
		}
	}
}

func TestReportTableNetwork(t *testing.T) {
	m, nics := readNetworkFixture(t, "4node")
	plan, err := Plan(m, []int{0, 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	r := NewReport(m, []int{0, 1}, plan)
	r.Network = NetworkReport(nics, m, plan)
	var buf bytes.Buffer
	if err := r.WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	_, tail, _ := strings.Cut(buf.String(), "INTERFACE")
	want := `  RECEIVES ON             CPUS
ens3       irq 38 virtio2-input.0  2-3
ens3       rx-0 rps                4-5
lo         -                       -
ens3: CPUs 2-5 without a shard, on nodes 1-2 without any shard
`
	if tail != want {
		t.Errorf("WriteTable network section =\n%s\nwant\n%s", tail, want)
	}
}

// netTree writes a one-interface tree under a temporary root: sys/class/net/eth0
// a directory (not a link, as in a copied tree) whose device links to a
// PCI device with the given MSI interrupts.
func netTree(t *testing.T, files map[string]string, msi ...string) (sys, proc string) {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		writeFile(t, filepath.Join(root, name), data)
	}
	if len(msi) > 0 {
		dev := filepath.Join(root, "sys/devices/pci0000:00/0000:00:05.0")
		for _, irq := range msi {
			writeFile(t, filepath.Join(dev, "msi_irqs", irq), "msix\n")
		}
		if err := os.Symlink(dev, filepath.Join(root, "sys/class/net/eth0/device")); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, "sys"), filepath.Join(root, "proc")
}

const twoCPUInterrupts = "           CPU0       CPU1\n" +
	" 40:          1          2  PCI-MSIX-0000:00:05.0   0-edge      eth0-rx-0\n" +
	" 41:          1          2  PCI-MSIX-0000:00:05.0   1-edge      eth0-tx-0\n" +
	" 42:          0          0  PCI-MSIX-0000:00:05.0   2-edge      enp0s5-misc\n" +
	" 43:          0          0\n" +
	"NMI:          0          0   Non-maskable interrupts\n"

func TestReadNetworkTrees(t *testing.T) {
	base := map[string]string{
		"sys/class/net/eth0/queues/rx-0/rps_cpus": "0\n",
		"sys/class/net/eth0/queues/rx-1/rps_cpus": "2\n",
		"sys/class/net/eth0/queues/tx-0/xps_cpus": "0\n",
		"proc/interrupts":                         twoCPUInterrupts,
		"proc/irq/40/smp_affinity_list":           "0\n",
		"proc/irq/41/smp_affinity_list":           "1\n",
		"proc/irq/42/smp_affinity_list":           "0-1\n",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	rx := []RxQueue{{Queue: 0, RPSCPUs: []int{}}, {Queue: 1, RPSCPUs: []int{1}}}
	for _, tc := range []struct {
		name    string
		files   map[string]string
		msi     []string
		want    []NIC
		wantErr string
	}{
		{name: "receive interrupts by name, no device", files: base,
			want: []NIC{{Name: "eth0", Queues: rx, IRQs: []IRQ{{IRQ: 40, Name: "eth0-rx-0", CPUs: []int{0}}}}}},
		{name: "receive interrupts leave out the device's others", files: base, msi: []string{"40", "41", "42"},
			want: []NIC{{Name: "eth0", Queues: rx, IRQs: []IRQ{{IRQ: 40, Name: "eth0-rx-0", CPUs: []int{0}}}}}},
		{name: "a device without receive names: all its interrupts", msi: []string{"42", "43"},
			files: with("proc/interrupts", "CPU0 CPU1\n42: 0 0 chip 2-edge enp0s5-q0\n43: 0 0 chip 3-edge enp0s5-q1\n",
				"proc/irq/43/smp_affinity_list", "1\n"),
			want: []NIC{{Name: "eth0", Queues: rx, IRQs: []IRQ{
				{IRQ: 42, Name: "enp0s5-q0", CPUs: []int{0, 1}}, {IRQ: 43, Name: "enp0s5-q1", CPUs: []int{1}}}}}},
		{name: "an interrupt freed meanwhile is left out", files: with("proc/irq/40/smp_affinity_list", ""),
			want: []NIC{{Name: "eth0", Queues: rx, IRQs: []IRQ{}}}},
		{name: "no RPS in the kernel", files: with("sys/class/net/eth0/queues/rx-1/rps_cpus", "", "sys/class/net/eth0/queues/rx-1/x", "1"),
			want: []NIC{{Name: "eth0", Queues: []RxQueue{{Queue: 0, RPSCPUs: []int{}}, {Queue: 1, RPSCPUs: []int{}}},
				IRQs: []IRQ{{IRQ: 40, Name: "eth0-rx-0", CPUs: []int{0}}}}}},
		{name: "bad rps mask", files: with("sys/class/net/eth0/queues/rx-0/rps_cpus", "zz\n"),
			wantErr: `rx-0/rps_cpus: parse cpu mask "zz\n": bad hex digit 'z' in group 0`},
		{name: "bad affinity list", files: with("proc/irq/40/smp_affinity_list", "0-\n"),
			wantErr: `irq/40/smp_affinity_list: parse cpulist "0-": `},
		{name: "bad interrupts header", files: with("proc/interrupts", "garbage\n"),
			wantErr: `interrupts: parse interrupts: header "garbage" does not name CPUs`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sys, proc := netTree(t, tc.files, tc.msi...)
			got, err := ReadNetwork(sys, proc)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ReadNetwork error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ReadNetwork = %+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestReadNetworkMissing(t *testing.T) {
	got, err := ReadNetwork(t.TempDir(), t.TempDir())
	if got != nil || err != nil {
		t.Errorf("ReadNetwork without class/net = %v, %v, want nil, nil", got, err)
	}
	sys, proc := netTree(t, map[string]string{"sys/class/net/lo/queues/rx-0/rps_cpus": "0\n"})
	if _, err := ReadNetwork(sys, proc); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadNetwork without /proc/interrupts: %v, want ErrNotExist", err)
	}
}

func TestParseInterrupts(t *testing.T) {
	got, err := parseInterrupts(twoCPUInterrupts)
	want := map[int]string{40: "eth0-rx-0", 41: "eth0-tx-0", 42: "enp0s5-misc", 43: ""}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseInterrupts = %v, %v, want %v", got, err, want)
	}
	for _, tc := range []struct{ in, wantErr string }{
		{"", `parse interrupts: header "" does not name CPUs`},
		{"CPU0\n 1 2 x\n", `parse interrupts: line 2 " 1 2 x": no IRQ label`},
		{"CPU0\n-1: 0 x\n", `parse interrupts: line 2 "-1: 0 x": negative IRQ`},
	} {
		if _, err := parseInterrupts(tc.in); err == nil || err.Error() != tc.wantErr {
			t.Errorf("parseInterrupts(%q) error = %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}

// FuzzParseInterrupts checks that the parser never panics and that every
// interrupt it returns has a line of its own whose label it is.
func FuzzParseInterrupts(f *testing.F) {
	f.Add(twoCPUInterrupts)
	f.Add("CPU0\n 1: 0\n")
	f.Add("CPU0 CPU1\n 7: 1 2 chip 7-edge a, b\nLOC: 1 2 timer\n")
	f.Fuzz(func(t *testing.T, s string) {
		names, err := parseInterrupts(s)
		if err != nil {
			return
		}
		for irq, name := range names {
			found := false
			for _, line := range strings.Split(s, "\n")[1:] {
				f := strings.Fields(line)
				if len(f) > 0 && strings.TrimSuffix(f[0], ":") == strconv.Itoa(irq) && (name == "" || f[len(f)-1] == name) {
					found = true
				}
			}
			if !found {
				t.Fatalf("parseInterrupts(%q): IRQ %d %q has no line", s, irq, name)
			}
		}
	})
}
