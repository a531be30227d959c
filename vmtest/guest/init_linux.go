package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/vmtest"
)

// runInit is the life of PID 1: set up, check, report, power off. It only
// returns when it is not PID 1 or cannot power off.
func runInit() error {
	if os.Getpid() != 1 {
		return errors.New("not running as PID 1")
	}
	console, err := setup()
	if err != nil {
		// Without a console nobody hears about it: the host sees no DONE.
		poweroff()
		return err
	}
	g := &guest{rep: reporter{w: console}}
	g.run()
	console.Sync()
	poweroff()
	return errors.New("still running after power-off")
}

// setup mounts the pseudo file systems, points fds 0-2 at the console and
// brings up loopback.
func setup() (*os.File, error) {
	mounts := []struct{ fstype, dir string }{{"proc", "/proc"}, {"sysfs", "/sys"}, {"devtmpfs", "/dev"}}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			return nil, err
		}
		if err := unix.Mount(m.fstype, m.dir, m.fstype, 0, ""); err != nil {
			return nil, fmt.Errorf("mount %s on %q: %w", m.fstype, m.dir, err)
		}
	}
	console, err := os.OpenFile("/dev/console", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	for fd := range 3 {
		if err := unix.Dup3(int(console.Fd()), fd, 0); err != nil {
			return console, fmt.Errorf("dup console to fd %d: %w", fd, err)
		}
	}
	return console, loopbackUp()
}

// loopbackUp sets IFF_UP on lo, which also gives it 127.0.0.1.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get lo flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

func poweroff() {
	unix.Sync()
	unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

// readSpec reads the Spec the harness put in the initramfs.
func readSpec() (vmtest.Spec, error) {
	var s vmtest.Spec
	data, err := os.ReadFile(vmtest.SpecPath)
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("decode %s: %w", vmtest.SpecPath, err)
	}
	return s, s.Validate()
}

// taskset narrows the calling thread to the CPUs in args[0] and executes
// args[1:]; the new program starts with that affinity.
func taskset(args []string) error {
	if len(args) < 2 {
		return errors.New("usage: taskset CPULIST PROG [ARGS...]")
	}
	cpus, err := parseList(args[0])
	if err != nil {
		return err
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	runtime.LockOSThread()
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("sched_setaffinity %q: %w", args[0], err)
	}
	return unix.Exec(args[1], args[1:], os.Environ())
}

// kernelRelease returns uname -r.
func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return strings.TrimRight(string(u.Release[:]), "\x00")
}

// uptime returns the time since the kernel started.
func uptime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
