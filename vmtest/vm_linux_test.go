package vmtest

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	vmFlag        = flag.Bool("vm", false, "boot the QEMU guests of TestVM (needs qemu-system-x86_64 and a kernel, see scripts/vmtest.sh)")
	vmKernel      = flag.String("vm.kernel", "", "bzImage to boot; empty means ../.cache/vmtest/kernel/boot/vmlinuz-*")
	vmPresets     = flag.String("vm.presets", "", "comma-separated presets to boot; empty means all")
	vmGroups      = flag.String("vm.groups", "sysfs,topology,server,numa", "comma-separated check groups (sysfs, topology, server, numa, dump)")
	vmAccel       = flag.String("vm.accel", "auto", "kvm, tcg, or auto: kvm when a probe guest boots under it")
	vmTimeout     = flag.Duration("vm.timeout", 4*time.Minute, "hard bound on one boot")
	vmParallel    = flag.Int("vm.parallel", 2, "guests booted at once")
	vmSysfsOut    = flag.String("vm.sysfs-out", "", "when set, copy each guest's /sys topology files to DIR/<fixture>/sys")
	vmCorekv      = flag.String("vm.corekv", ".", "package built as the guest's corekv, relative to the module root")
	vmKeepConsole = flag.String("vm.console-out", "", "when set, write each guest's console to DIR/<preset>.log")
)

// TestVM boots every preset and fails on any failed or missing check.
func TestVM(t *testing.T) {
	if !*vmFlag {
		t.Skip("VM suite not requested: run with -vm (scripts/vmtest.sh installs QEMU and the kernel)")
	}
	if !slices.Contains([]string{"auto", "kvm", "tcg"}, *vmAccel) {
		t.Fatalf("-vm.accel=%q: want kvm, tcg or auto", *vmAccel)
	}
	groups := splitList(*vmGroups)
	if *vmSysfsOut != "" && !slices.Contains(groups, GroupDump) {
		groups = append(groups, GroupDump)
	}
	presets := selectPresets(t)
	cfg := Config{Kernel: findKernel(t), Timeout: *vmTimeout, TempDir: t.TempDir()}
	dir := t.TempDir()
	files := []File{{Name: "init", Mode: 0o755, Data: goBuild(t, dir, "./vmtest/guest")}}
	cfg.Initramfs = cpio(t, files)
	// The KVM probe boots while corekv builds: both take tens of seconds.
	accel, probed := make(chan string, 1), make(chan struct{})
	go func(cfg Config) {
		defer close(probed)
		accel <- chooseAccel(t, cfg)
	}(cfg)
	t.Cleanup(func() { <-probed }) // a failed build must not end the test under it
	if slices.Contains(groups, GroupTopology) || slices.Contains(groups, GroupServer) || slices.Contains(groups, GroupNUMA) {
		files = append(files, File{Name: "bin/corekv", Mode: 0o755, Data: goBuild(t, dir, *vmCorekv)})
		cfg.Initramfs = cpio(t, files)
	}
	cfg.Accel = <-accel
	sem := make(chan struct{}, max(1, *vmParallel))
	var mu sync.Mutex
	var boots []string
	start := time.Now()
	t.Cleanup(func() {
		t.Logf("%d guests (%s, %d at once) in %v:\n%s", len(boots), cfg.Accel, max(1, *vmParallel),
			time.Since(start).Round(time.Millisecond), strings.Join(boots, "\n"))
	})
	for _, p := range presets {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			sem <- struct{}{}
			defer func() { <-sem }()
			line := bootPreset(t, cfg, Spec{Preset: p, Groups: groups})
			mu.Lock()
			boots = append(boots, line)
			mu.Unlock()
		})
	}
}

// bootPreset boots one guest and checks its report; it returns a line
// about the boot for TestVM's summary.
func bootPreset(t *testing.T, cfg Config, spec Spec) string {
	b, err := Run(context.Background(), cfg, spec)
	pass := 0
	for _, r := range b.Report.Results {
		if r.Pass {
			pass++
		}
	}
	ready := "  never"
	if b.Ready > 0 {
		ready = fmt.Sprintf("%6.1fs", b.Ready.Seconds())
	}
	line := fmt.Sprintf("  %-10s first guest line %s, powered off %6.1fs, %d/%d checks passed",
		spec.Preset.Name, ready, b.Elapsed.Seconds(), pass, len(spec.Checks()))
	t.Logf("preset %s (%s): first guest line after %s, powered off after %v; %d checks reported",
		spec.Preset.Name, cfg.Accel, strings.TrimSpace(ready), b.Elapsed.Round(time.Millisecond), len(b.Report.Results))
	for _, r := range b.Report.Results {
		t.Logf("  %s %s %s", map[bool]string{true: "PASS", false: "FAIL"}[r.Pass], r.Name, r.Detail)
	}
	for _, l := range b.Report.Logs {
		t.Logf("  log: %s", l)
	}
	if *vmKeepConsole != "" {
		os.MkdirAll(*vmKeepConsole, 0o755)
		os.WriteFile(filepath.Join(*vmKeepConsole, spec.Preset.Name+".log"), b.Console, 0o644)
	}
	// A boot that failed or was killed still says which checks it reached.
	if err = errors.Join(err, b.Report.Verify(spec.Checks())); err != nil {
		console := tail(b.Console, 3000)
		if console == "" {
			console = "(empty: the kernel prints only errors, loglevel=3, and the guest printed nothing)\n"
		}
		t.Errorf("preset %s: %v\nqemu %s\nconsole tail:\n%s", spec.Preset.Name, err,
			strings.Join(b.Args, " "), console)
		return line + " FAILED"
	}
	if *vmSysfsOut != "" {
		dir := filepath.Join(*vmSysfsOut, spec.Preset.Fixture)
		if err := UnpackSysfs(b.Report.Data[SysfsStream], dir); err != nil {
			t.Fatal(err)
		}
		t.Logf("sysfs of %s written to %s", spec.Preset.Name, dir)
	}
	return line
}

// tail returns the last n bytes of a console, from the first whole line
// on, without the serial line's carriage returns and with DATA lines left
// out: they are base64 nobody reads.
func tail(console []byte, n int) string {
	var keep []string
	for line := range strings.Lines(strings.ReplaceAll(string(console), "\r", "")) {
		if !strings.Contains(line, Prefix+"DATA ") {
			keep = append(keep, line)
		}
	}
	s := strings.Join(keep, "")
	if len(s) <= n {
		return s
	}
	cut := len(s) - n
	if s[cut-1] != '\n' { // drop the partial line
		i := strings.IndexByte(s[cut:], '\n')
		if i < 0 {
			return ""
		}
		cut += i + 1
	}
	return s[cut:]
}

func splitList(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func selectPresets(t *testing.T) []Preset {
	all := Presets()
	names := splitList(*vmPresets)
	if len(names) == 0 {
		return all
	}
	var out []Preset
	for _, n := range names {
		i := slices.IndexFunc(all, func(p Preset) bool { return p.Name == n })
		if i < 0 {
			t.Fatalf("unknown preset %q", n)
		}
		out = append(out, all[i])
	}
	return out
}

// findKernel returns -vm.kernel or the kernel scripts/vmtest.sh unpacked.
func findKernel(t *testing.T) string {
	if *vmKernel != "" {
		return *vmKernel
	}
	found, _ := filepath.Glob("../.cache/vmtest/kernel/boot/vmlinuz-*")
	if len(found) == 0 {
		t.Fatal("no kernel in ../.cache/vmtest/kernel/boot: run scripts/vmtest.sh or pass -vm.kernel")
	}
	k, err := filepath.Abs(found[len(found)-1])
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// cpio returns files as one initramfs archive.
func cpio(t *testing.T, files []File) []byte {
	var buf bytes.Buffer
	if err := WriteCPIO(&buf, files); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func goBuild(t *testing.T, dir, pkg string) []byte {
	out := filepath.Join(dir, "out")
	start := time.Now()
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %s: %d bytes in %v", pkg, len(data), time.Since(start).Round(time.Millisecond))
	return data
}

// chooseAccel returns -vm.accel, probing KVM when it is "auto". It runs
// on its own goroutine, so it only logs.
func chooseAccel(t *testing.T, cfg Config) string {
	if *vmAccel != "auto" {
		return *vmAccel
	}
	start := time.Now()
	if err := ProbeKVM(context.Background(), cfg, 20*time.Second); err != nil {
		t.Logf("KVM unusable, using TCG (probe took %v): %s", time.Since(start).Round(time.Millisecond), firstLine(err))
		return "tcg"
	}
	t.Logf("KVM probe guest booted in %v: using KVM", time.Since(start).Round(time.Millisecond))
	return "kvm"
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(fmt.Sprint(err), "\n")
	return s
}

func TestTail(t *testing.T) {
	console := "boot noise\r\nVMTEST PASS boot\r\nVMTEST DATA sysfs QUJD\r\nVMTEST FAIL pin: off\r\nVMTEST DONE\r\n"
	tests := []struct {
		n    int
		want string
	}{
		{1000, "boot noise\nVMTEST PASS boot\nVMTEST FAIL pin: off\nVMTEST DONE\n"},
		{33, "VMTEST FAIL pin: off\nVMTEST DONE\n"},
		{32, "VMTEST DONE\n"},
		{5, ""},
	}
	for _, tc := range tests {
		if got := tail([]byte(console), tc.n); got != tc.want {
			t.Errorf("tail(console, %d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
