package vmtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Config says how to boot guests. Its zero value is not usable: Kernel and
// Initramfs are required.
type Config struct {
	// QEMU is the emulator binary; "" means "qemu-system-x86_64" in PATH.
	QEMU string
	// Kernel is the path of the bzImage (vmlinuz) to boot.
	Kernel string
	// Initramfs is a newc cpio archive holding /init; Boot appends the Spec.
	Initramfs []byte
	// Accel is "kvm" (with -cpu host) or "tcg"; "" means "tcg".
	Accel string
	// Timeout bounds one boot, from start to power-off; qemu is killed
	// when it runs out. 0 means 5 minutes.
	Timeout time.Duration
	// TempDir holds the per-boot initramfs file; "" means os.TempDir().
	TempDir string
}

func (c Config) withDefaults() Config {
	if c.QEMU == "" {
		c.QEMU = "qemu-system-x86_64"
	}
	if c.Accel == "" {
		c.Accel = "tcg"
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Minute
	}
	return c
}

// Boot is one finished guest run.
type Boot struct {
	// Report is what the guest printed; never nil.
	Report *Report
	// Console is the whole serial output.
	Console []byte
	// Args is the qemu command line.
	Args []string
	// Ready is the time from starting qemu to the guest's first line.
	Ready time.Duration
	// Elapsed is the time from starting qemu to its exit.
	Elapsed time.Duration
}

// Run boots spec under QEMU, waits for the guest to power off and parses
// its console. It returns the Boot along with any error, so a failed or
// timed-out boot still shows its console.
func Run(ctx context.Context, cfg Config, spec Spec) (*Boot, error) {
	cfg = cfg.withDefaults()
	b := &Boot{Report: &Report{}}
	if err := spec.Validate(); err != nil {
		return b, err
	}
	initrd, err := writeInitrd(cfg, spec)
	if err != nil {
		return b, err
	}
	defer os.Remove(initrd)
	b.Args = qemuArgs(cfg, spec.Preset, initrd)
	err = b.run(ctx, cfg)
	rep, perr := ParseConsole(b.Console)
	if rep != nil {
		b.Report = rep
	}
	return b, errors.Join(err, perr)
}

func (b *Boot) run(ctx context.Context, cfg Config) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cfg.QEMU, b.Args...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("qemu stdout: %w", err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %q: %w", cfg.QEMU, err)
	}
	b.Console, b.Ready = readConsole(out, start)
	err = cmd.Wait()
	b.Elapsed = time.Since(start)
	if ctx.Err() != nil {
		return fmt.Errorf("boot %s: killed after %v: %w", cfg.Accel, cfg.Timeout, ctx.Err())
	}
	if err != nil {
		return fmt.Errorf("qemu: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// readConsole reads r to its end and notes when the first protocol line came.
func readConsole(r io.Reader, start time.Time) ([]byte, time.Duration) {
	var buf bytes.Buffer
	var ready time.Duration
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadBytes('\n')
		buf.Write(line)
		if ready == 0 && bytes.Contains(line, []byte(Prefix)) {
			ready = time.Since(start)
		}
		if err != nil {
			return buf.Bytes(), ready
		}
	}
}

// writeInitrd writes cfg.Initramfs followed by an archive holding spec to
// a temporary file; the kernel unpacks concatenated archives in order.
func writeInitrd(cfg Config, spec Spec) (string, error) {
	js, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("encode spec: %w", err)
	}
	f, err := os.CreateTemp(cfg.TempDir, "vmtest-initrd-*.cpio")
	if err != nil {
		return "", fmt.Errorf("initrd: %w", err)
	}
	_, err = f.Write(cfg.Initramfs)
	if err == nil {
		err = WriteCPIO(f, []File{{Name: SpecPath, Mode: 0o644, Data: js}})
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write initrd %q: %w", f.Name(), err)
	}
	return f.Name(), nil
}

// qemuArgs returns the command line that boots p with no devices but the
// serial console on stdout, and no network.
func qemuArgs(cfg Config, p Preset, initrd string) []string {
	args := []string{
		"-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
		"-serial", "stdio",
		"-kernel", cfg.Kernel, "-initrd", initrd,
		"-append", "console=ttyS0 panic=-1 quiet loglevel=3",
	}
	if cfg.Accel == "kvm" {
		args = append(args, "-accel", "kvm", "-cpu", "host")
	} else {
		// Under TCG the AMD vendor string hides SMT siblings; Intel's shows them.
		args = append(args, "-accel", "tcg", "-cpu", "max,vendor=GenuineIntel")
	}
	return append(args, p.QEMUArgs()...)
}

// ProbeKVM reports, as a nil error, whether a one-CPU guest boots under
// KVM with -cpu host within timeout. Nested KVM can open /dev/kvm and
// still abort or hang, so only a finished boot counts.
func ProbeKVM(ctx context.Context, cfg Config, timeout time.Duration) error {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kvm: %w", err)
	}
	f.Close()
	cfg.Accel, cfg.Timeout = "kvm", timeout
	p := Preset{Name: "probe", Sockets: 1, Cores: 1, Threads: 1, MemoryMiB: 256}
	b, err := Run(ctx, cfg, Spec{Preset: p})
	if err != nil {
		return err
	}
	return b.Report.Verify([]string{"boot"})
}
