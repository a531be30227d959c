package topology

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestReportJSON(t *testing.T) {
	m := nodesOf([]int{0, 1}, []int{})
	m.CPUs[1].Siblings = nil // NewReport must still print []
	plan, err := Plan(m, []int{1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	r := NewReport(m, []int{1}, plan)
	r.Network = NetworkReport([]NIC{{Name: "eth0", Queues: []RxQueue{{Queue: 0, RPSCPUs: []int{0}}},
		IRQs: []IRQ{{IRQ: 38, Name: "eth0-rx-0", CPUs: []int{1, 0}}}}}, m, plan)
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	want := `{
  "cpus": [
    {"cpu":0,"core":0,"package":0,"node":0,"siblings":[0]},
    {"cpu":1,"core":1,"package":0,"node":0,"siblings":[]}
  ],
  "nodes": [
    {"node":0,"cpus":[0,1],"memory":true,"distances":[10,20]},
    {"node":1,"cpus":[],"memory":true,"distances":[20,10]}
  ],
  "usable": [1],
  "shards": [
    {"shard":0,"cpu":1,"core":1,"package":0,"node":0}
  ],
  "network": [
    {"interface":"eth0","rx_queues":[{"queue":0,"rps_cpus":[0]}],"irqs":[{"irq":38,"name":"eth0-rx-0","cpus":[0,1]}],"unserved_cpus":[0],"unserved_nodes":[]}
  ]
}
`
	if got := buf.String(); got != want {
		t.Errorf("WriteJSON =\n%s\nwant\n%s", got, want)
	}
	var decoded Report
	if err := json.Unmarshal(buf.Bytes(), &decoded); err != nil {
		t.Fatalf("WriteJSON wrote invalid JSON: %v", err)
	}
	if decoded.Usable[0] != 1 || decoded.Shards[0].CPU != 1 || len(decoded.Nodes[1].CPUs) != 0 {
		t.Errorf("decoded report = %+v", decoded)
	}
}

func TestReportEmptyLists(t *testing.T) {
	var buf bytes.Buffer
	if err := NewReport(&Machine{}, nil, nil).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"cpus\": [],\n  \"nodes\": [],\n  \"usable\": [],\n  \"shards\": [],\n  \"network\": []\n}\n"
	if buf.String() != want {
		t.Errorf("WriteJSON of an empty report = %q, want %q", buf.String(), want)
	}
}

// TestNewReportCopies checks that the report neither shares nor reorders
// the caller's slices.
func TestNewReportCopies(t *testing.T) {
	m := twoSocketInterleaved()
	usable := []int{3, 1}
	r := NewReport(m, usable, nil)
	r.CPUs[0].Siblings[0] = 99
	r.Nodes[0].Distances[0] = 99
	if m.CPUs[0].Siblings[0] != 0 || m.Nodes[0].Distances[0] != 10 || usable[0] != 3 {
		t.Errorf("NewReport shares or sorts the caller's slices")
	}
	if !reflect.DeepEqual(r.Usable, []int{1, 3}) {
		t.Errorf("report usable = %v, want [1 3]", r.Usable)
	}
}

func TestReportTable(t *testing.T) {
	m := twoSocketInterleaved()
	usable := []int{0, 1, 2, 3}
	plan, err := Plan(m, usable, 2)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := NewReport(m, usable, plan).WriteTable(&buf); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"CPU  NODE  PACKAGE  DIE  CORE  SIBLINGS  USABLE  SHARD",
		"0    0     0        0    0     0,4       yes     0",
		"1    1     1        0    0     1,5       yes     1",
		"2    0     0        0    1     2,6       yes     -",
		"3    1     1        0    1     3,7       yes     -",
		"4    0     0        0    0     0,4       no      -",
		"5    1     1        0    0     1,5       no      -",
		"6    0     0        0    1     2,6       no      -",
		"7    1     1        0    1     3,7       no      -",
		"",
		"NODE  CPUS     MEMORY  DISTANCES",
		"0     0,2,4,6  yes     10 20",
		"1     1,3,5,7  yes     20 10",
		"",
		"2 shards on usable CPUs 0-3",
		"SHARD  CPU  CORE  PACKAGE  NODE",
		"0      0    0     0        0",
		"1      1    0     1        1",
		"",
	}, "\n")
	if got := buf.String(); got != want {
		t.Errorf("WriteTable =\n%s\nwant\n%s", got, want)
	}
}
