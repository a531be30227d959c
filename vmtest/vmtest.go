// Package vmtest boots Linux guests under QEMU with chosen CPU and NUMA
// layouts and collects what corekv's checks inside them report.
//
// The harness side builds a newc initramfs (WriteCPIO) holding the guest
// program as /init and a static corekv, appends a Spec for each Preset and
// boots it (Run) with the serial console on stdout and a hard time bound.
// The guest program (vmtest/guest) prints one line per check in the
// console protocol described at Prefix, which ParseConsole reads back.
// The suite itself is TestVM, run with `go test ./vmtest -run TestVM -vm`
// or scripts/vmtest.sh, which also installs QEMU and fetches the kernel.
// `scripts/vmtest.sh refresh DIR` writes each guest's /sys/devices/system
// topology files to DIR/<fixture>/sys, the layout of topology/testdata.
package vmtest
