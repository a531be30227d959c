// Package soak holds corekv's end-to-end soak tests: they build the
// corekv command, run it as a child process under load whose every reply
// is checked, and stop it with SIGTERM. It has no non-test code; run it
// with go test (-soak=5m for a long run).
package soak
