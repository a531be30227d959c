package peers

import (
	"strings"
	"testing"
)

func TestParseStatus(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Memory
		wantErr string
	}{
		{
			name: "a process",
			in:   "Name:\tredis-server\nVmPeak:\t  100 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\nThreads:\t5\n",
			want: Memory{Peak: 2048 << 10, Current: 1024 << 10},
		},
		{
			name: "zero",
			in:   "VmRSS:\t0 kB\nVmHWM:\t0 kB\n",
			want: Memory{},
		},
		{name: "kernel thread", in: "Name:\tkthreadd\nThreads:\t1\n", wantErr: "parse status: VmHWM or VmRSS missing"},
		{name: "no unit", in: "VmHWM:\t12\nVmRSS:\t12 kB\n", wantErr: `parse VmHWM line "VmHWM:\t12": want a number of kB`},
		{name: "bad number", in: "VmHWM:\t1x kB\nVmRSS:\t12 kB\n", wantErr: `parse VmHWM line "VmHWM:\t1x kB": bad number "1x"`},
		{name: "negative", in: "VmHWM:\t12 kB\nVmRSS:\t-1 kB\n", wantErr: `parse VmRSS line "VmRSS:\t-1 kB": bad number "-1"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatus([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parseStatus(%q) error = %v, want %s", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("parseStatus(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    func() ([]string, error)
		want    string
		wantErr string
	}{
		{"memcached", func() ([]string, error) { return MemcachedArgs("127.0.0.1:1234", 64, false) },
			"-l 127.0.0.1 -p 1234 -U 0 -t 1 -m 64", ""},
		{"memcached as root", func() ([]string, error) { return MemcachedArgs("127.0.0.1:1234", 2, true) },
			"-l 127.0.0.1 -p 1234 -U 0 -t 1 -m 2 -u root", ""},
		{"redis unlimited", func() ([]string, error) { return RedisArgs("127.0.0.1:99", 0, "allkeys-lru") },
			"--bind 127.0.0.1 --port 99 --save  --appendonly no --daemonize no --logfile  --protected-mode no", ""},
		{"redis with a budget", func() ([]string, error) { return RedisArgs("127.0.0.1:99", 1000, "allkeys-lru") },
			"--bind 127.0.0.1 --port 99 --save  --appendonly no --daemonize no --logfile  --protected-mode no --maxmemory 1000 --maxmemory-policy allkeys-lru", ""},
		{"corekv", func() ([]string, error) { return CorekvArgs("127.0.0.1:5", 0, "--shards", "1") },
			"--host 127.0.0.1 --port 5 --max-memory 0 --admin-addr= --shards 1", ""},
		{"no port", func() ([]string, error) { return CorekvArgs("127.0.0.1", 0) },
			"", "address 127.0.0.1: missing port in address"},
		{"bad port", func() ([]string, error) { return RedisArgs("127.0.0.1:99999", 0, "") },
			"", `address "127.0.0.1:99999": bad port "99999"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.args()
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != tc.want {
				t.Errorf("args = %q, %v; want %q", strings.Join(got, " "), err, tc.want)
			}
		})
	}
}
