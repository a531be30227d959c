// Package seccomptest makes a process refuse the NUMA memory policy
// calls, or attaching a reuseport BPF program, the way a container's
// seccomp profile may, so that tests can check what corekv does then;
// Child runs a test in a child process under such a filter.
package seccomptest

// RefuseMemoryPolicies installs, on every thread of the calling process
// and on what it executes, a seccomp filter that fails mbind,
// get_mempolicy, set_mempolicy and move_pages with EPERM, as Docker's
// default profile does for a container without CAP_SYS_NICE. It cannot be
// undone.
func RefuseMemoryPolicies() error {
	return refuseImpl()
}

// RefuseSteering installs, on every thread of the calling process and on
// what it executes, a seccomp filter that fails setsockopt(SOL_SOCKET,
// SO_ATTACH_REUSEPORT_CBPF) with EPERM, as a profile that allows only
// known socket options does. It cannot be undone.
func RefuseSteering() error {
	return refuseSteeringImpl()
}
