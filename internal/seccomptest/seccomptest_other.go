//go:build !linux

package seccomptest

func refuseImpl() error { return unsupported() }

func refuseSteeringImpl() error { return unsupported() }
