package shard

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/socket"
	"github.com/corekv/corekv/store"
	"github.com/corekv/corekv/topology"
)

// bufferMaps records the calls of Config.MapBuffers.
type bufferMaps struct {
	mu    sync.Mutex
	nodes []int
	sizes []int
	mem   [][]byte
}

func (b *bufferMaps) mapBuffers(size, node int) ([]byte, error) {
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nodes = append(b.nodes, node)
	b.sizes = append(b.sizes, size)
	b.mem = append(b.mem, mem)
	return mem, nil
}

// TestMappedBuffers serves requests from loops whose buffers MapBuffers
// mapped for each shard's node, and checks that the loops unmap them when
// they end.
func TestMappedBuffers(t *testing.T) {
	var maps bufferMaps
	plan := []topology.Shard{{Shard: 0, CPU: -1, Node: 0}, {Shard: 1, CPU: -1, Node: 3}}
	ts := start(t, Config{Engine: EngineLoop, Plan: plan, MapBuffers: maps.mapBuffers}, 2)
	for range 4 { // over new connections, which may reach either shard
		if resp, _ := exchange(t, ts.addr, "POST /store/k HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nvalue"); resp.StatusCode != 200 {
			t.Fatalf("store: status %d", resp.StatusCode)
		}
		if resp, body := exchange(t, ts.addr, "GET /get/k HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 200 || body != "value" {
			t.Fatalf("get: status %d, body %q", resp.StatusCode, body)
		}
	}
	maps.mu.Lock()
	read := false // some loop read a request into its mapped buffer
	for _, mem := range maps.mem {
		read = read || strings.Contains(string(mem[:readBufSize]), "GET /get/k HTTP/1.1")
	}
	maps.mu.Unlock()
	if !read {
		t.Error("no mapped read buffer holds a request")
	}
	ts.stop()
	err := <-ts.done
	ts.done <- err // for start's cleanup
	maps.mu.Lock()
	defer maps.mu.Unlock()
	nodes := slices.Sorted(slices.Values(maps.nodes))
	if !slices.Equal(nodes, []int{0, 3}) || slices.ContainsFunc(maps.sizes, func(n int) bool { return n != buffersSize }) {
		t.Errorf("MapBuffers called for nodes %v, sizes %v; want nodes [0 3], %d bytes each", maps.nodes, maps.sizes, buffersSize)
	}
	for i, mem := range maps.mem {
		// madvise fails with ENOMEM on a range that is not mapped.
		if err := unix.Madvise(mem, unix.MADV_NORMAL); !errors.Is(err, unix.ENOMEM) {
			t.Errorf("buffers of node %d still mapped after the loop ended: madvise = %v", maps.nodes[i], err)
		}
	}
}

// TestMapBuffersFails checks that a shard whose buffers cannot be mapped
// makes Serve fail and says which shard and node.
func TestMapBuffersFails(t *testing.T) {
	lns, err := socket.ListenGroup(socket.Config{Host: "127.0.0.1"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Engine: EngineLoop, Listeners: lns, Plan: []topology.Shard{{CPU: -1, Node: 1}},
		Store:      testStore(t, api.Limits{}, store.Config{}),
		MapBuffers: func(int, int) ([]byte, error) { return nil, unix.ENOMEM }})
	if err != nil {
		t.Fatal(err)
	}
	err = g.Serve(context.Background())
	if !errors.Is(err, unix.ENOMEM) || !strings.Contains(err.Error(), "shard 0: map buffers for node 1") {
		t.Errorf("Serve = %v, want the shard's map error", err)
	}
}

// TestResidentByNodeStats checks that /stats carries what
// Config.ResidentByNode reports, or its error, and leaves both out
// without it.
func TestResidentByNodeStats(t *testing.T) {
	tests := []struct {
		name      string
		resident  func() (map[int]int64, error)
		want      map[int]int64
		wantError string
	}{
		{"none", nil, nil, ""},
		{"by node", func() (map[int]int64, error) { return map[int]int64{0: 4096, 3: 8192}, nil }, map[int]int64{0: 4096, 3: 8192}, ""},
		{"error", func() (map[int]int64, error) { return nil, errors.New("numa: move_pages: operation not permitted") },
			nil, "numa: move_pages: operation not permitted"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := start(t, Config{Engine: EngineLoop, ResidentByNode: tc.resident}, 1)
			resp, body := exchange(t, ts.addr, "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n")
			var st Stats
			if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /stats: %d %q: %v", resp.StatusCode, body, err)
			}
			if !maps.Equal(st.ResidentByNode, tc.want) || st.ResidentError != tc.wantError {
				t.Errorf("/stats resident_by_node %v, resident_error %q; want %v, %q", st.ResidentByNode, st.ResidentError, tc.want, tc.wantError)
			}
			if tc.resident == nil && (strings.Contains(body, "resident_by_node") || strings.Contains(body, "resident_error")) {
				t.Errorf("/stats without ResidentByNode mentions it: %s", body)
			}
		})
	}
}
