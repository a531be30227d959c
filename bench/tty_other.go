//go:build !linux

package main

import "io"

// isTerminal reports false: bench draws no progress bar off Linux.
func isTerminal(io.Writer) bool { return false }
