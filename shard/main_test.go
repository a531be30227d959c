package shard

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: a
// shard must end every goroutine it starts (event loops, net/http servers,
// HTTP/2 hand-overs) before Serve returns.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
