// Command guest is the init program of the VM suite's guests: it mounts
// /proc, /sys and /dev, runs the checks its Spec names, prints their
// results on the serial console in the vmtest console protocol and powers
// the machine off. Run as "guest taskset CPULIST PROG ARGS..." it narrows
// its affinity to CPULIST and executes PROG, like taskset(1); run as
// "guest nompol PROG ARGS..." it executes PROG under a seccomp filter that
// refuses the NUMA memory policy calls, as a container's profile does.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "taskset" {
		err := taskset(os.Args[2:])
		fmt.Fprintf(os.Stderr, "taskset: %v\n", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && os.Args[1] == "nompol" {
		err := nompol(os.Args[2:])
		fmt.Fprintf(os.Stderr, "nompol: %v\n", err)
		os.Exit(1)
	}
	err := runInit() // returns only on failure
	fmt.Fprintf(os.Stderr, "vmtest guest: %v\n", err)
	os.Exit(1)
}
