package soak

import (
	"context"
	"testing"
	"time"
)

// soakEngines are the engines the soak runs; soakProtos the protocols.
var (
	soakEngines = []string{"loop", "std"}
	soakProtos  = []string{"h1", "h2c"}
)

// TestSoak builds corekv and runs it as a child process under load whose
// every reply is checked:
//   - each engine × protocol: writers, readers and pipelining readers for
//     a few seconds (-soak=D spreads D over the four), then every key
//     read back and /stats compared; RSS stays within a bound derived from
//     the data held; the server logs nothing unexpected and exits 0 on
//     SIGTERM;
//   - max-memory: a 1 MiB store with --eviction=none flooded until 507;
//   - evict: eight times a 16 MiB --max-memory written, all answered 200,
//     memory within the limit;
//   - sigterm: SIGTERM under load, requests in flight finish.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("builds corekv and runs it under load; skipped in -short mode")
	}
	bin := buildCorekv(t)
	each := 1500 * time.Millisecond
	if *soakFlag > 0 {
		each = *soakFlag / time.Duration(len(soakEngines)*len(soakProtos))
	}
	var verified, peakRSS int64
	for _, engine := range soakEngines {
		for _, proto := range soakProtos {
			t.Run(engine+"/"+proto, func(t *testing.T) {
				n, rss := testLoad(t, bin, engine, proto, each)
				verified += n
				peakRSS = max(peakRSS, rss)
			})
		}
	}
	for _, engine := range soakEngines {
		for _, proto := range soakProtos {
			t.Run("max-memory/"+engine+"/"+proto, func(t *testing.T) {
				verified += testMaxMemory(t, bin, engine, proto)
			})
		}
	}
	for i, engine := range soakEngines {
		proto := soakProtos[i%len(soakProtos)]
		t.Run("evict/"+engine+"/"+proto, func(t *testing.T) {
			verified += testEviction(t, bin, engine, proto)
		})
	}
	for _, engine := range soakEngines {
		t.Run("sigterm/"+engine, func(t *testing.T) {
			verified += testSigterm(t, bin, engine)
		})
	}
	t.Logf("soak: %d replies verified in all; load runs of %v each, peak RSS %.1f MiB", verified, each, mib(peakRSS))
}

// testLoad runs writers and readers of one protocol against one engine for
// d, then reads every key back. It returns the replies verified and the
// server's peak RSS.
func testLoad(t *testing.T, bin, engine, proto string, d time.Duration) (verified, peakRSS int64) {
	srv := startServer(t, bin, 5*time.Second, "--engine", engine)
	clients := []*soakClient{newSoakClient(proto), newSoakClient(proto), newSoakClient(proto)}
	l := newSoakLoad(srv, clients, 6, 24)
	pipeliners := 0
	if proto == "h1" {
		pipeliners = 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	l.run(ctx, 6, pipeliners)()
	took := time.Since(start)
	keys, bytes := l.readBack(clients[0])
	switch st, err := srv.stats(clients[0].Client); {
	case err != nil:
		t.Errorf("/stats: %v", err)
	case st.Engine != engine || st.Keys != keys || st.Bytes != bytes:
		t.Errorf("/stats: engine %q, %d keys, %d bytes; want %q, %d keys, %d bytes", st.Engine, st.Keys, st.Bytes, engine, keys, bytes)
	}
	for _, c := range clients {
		c.CloseIdleConnections()
	}
	srv.stop()
	l.fail.report(t)
	srv.checkRSS(l.peakLive.Load())
	verified, peakRSS = l.verified.Load(), srv.peakRSS.Load()
	t.Logf("%d replies verified in %v (%.0f/s), %d keys; at most %.2f MiB of data held; peak RSS %.1f MiB (%.1f MiB at start)",
		verified, took.Round(time.Millisecond), float64(verified)/took.Seconds(), len(l.all),
		mib(l.peakLive.Load()), mib(peakRSS), mib(srv.baseRSS))
	return verified, peakRSS
}
