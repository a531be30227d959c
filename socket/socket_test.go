package socket

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    netip.Addr
		wantErr string
	}{
		{name: "all interfaces", in: "", want: netip.Addr{}},
		{name: "localhost", in: "localhost", want: netip.MustParseAddr("127.0.0.1")},
		{name: "ipv4", in: "10.1.2.3", want: netip.MustParseAddr("10.1.2.3")},
		{name: "ipv4 any", in: "0.0.0.0", want: netip.IPv4Unspecified()},
		{name: "ipv6", in: "::1", want: netip.IPv6Loopback()},
		{name: "ipv6 any", in: "::", want: netip.IPv6Unspecified()},
		{name: "ipv6 bracketed", in: "[fd00::2]", want: netip.MustParseAddr("fd00::2")},
		{name: "ipv4-mapped ipv6 is ipv4", in: "::ffff:127.0.0.1", want: netip.MustParseAddr("127.0.0.1")},
		{name: "host name", in: "example.com", wantErr: `socket: host "example.com" is not an IP address or "localhost" (host names are not resolved)`},
		{name: "upper-case localhost", in: "LOCALHOST", wantErr: `socket: host "LOCALHOST" is not an IP address or "localhost" (host names are not resolved)`},
		{name: "host with port", in: "127.0.0.1:80", wantErr: `socket: host "127.0.0.1:80" is not an IP address or "localhost" (host names are not resolved)`},
		{name: "zoned", in: "fe80::1%eth0", wantErr: `socket: host "fe80::1%eth0": zoned IPv6 addresses are not supported`},
		{name: "half bracket", in: "[::1", wantErr: `socket: host "[::1" is not an IP address or "localhost" (host names are not resolved)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseHost(tc.in)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("parseHost(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseHost(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// FuzzParseHost checks parseHost against netip.ParseAddr.
func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"", "localhost", "10.1.2.3", "::", "[::1]", "::ffff:1.2.3.4", "fe80::1%eth0", "example.com", "[", "[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseHost(in)
		if in == "" || in == "localhost" {
			if err != nil {
				t.Fatalf("parseHost(%q) error %v", in, err)
			}
			return
		}
		s := in
		if len(s) >= 2 && s[0] == '[' && s[len(s)-1] == ']' {
			s = s[1 : len(s)-1]
		}
		ref, refErr := netip.ParseAddr(s)
		switch {
		case refErr != nil || ref.Zone() != "":
			if err == nil {
				t.Fatalf("parseHost(%q) = %v, want an error (netip: %v, zone %q)", in, got, refErr, ref.Zone())
			}
		case err != nil:
			t.Fatalf("parseHost(%q) error %v, netip parses %v", in, err, ref)
		case got != ref.Unmap() || !got.IsValid():
			t.Fatalf("parseHost(%q) = %v, want %v", in, got, ref.Unmap())
		}
	})
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		in      Config
		wantErr string
	}{
		{name: "zero", in: Config{}},
		{name: "max port", in: Config{Port: 65535}},
		{name: "negative port", in: Config{Port: -1}, wantErr: "socket: port -1 out of range 0-65535"},
		{name: "port too big", in: Config{Port: 65536}, wantErr: "socket: port 65536 out of range 0-65535"},
		{name: "negative backlog", in: Config{Backlog: -1}, wantErr: "socket: negative backlog -1"},
		{name: "negative buffer", in: Config{RecvBuffer: -2}, wantErr: "socket: negative buffer size (send 0, receive -2)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.in.validate()
			if (tc.wantErr == "" && err != nil) || (tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr)) {
				t.Fatalf("%+v.validate() = %v, want %q", tc.in, err, tc.wantErr)
			}
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{name: "zero", in: Config{}, want: Config{Backlog: 4096, SendBuffer: 4 << 20, RecvBuffer: 4 << 20}},
		{name: "set fields kept", in: Config{Host: "::1", Port: 80, Backlog: 16, SendBuffer: 1, RecvBuffer: 2},
			want: Config{Host: "::1", Port: 80, Backlog: 16, SendBuffer: 1, RecvBuffer: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.withDefaults(); got != tc.want {
				t.Fatalf("%+v.withDefaults() = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestEffectiveString(t *testing.T) {
	tests := []struct {
		name string
		in   Effective
		want string
	}{
		{name: "typical", in: Effective{SendBuffer: 8 << 20, RecvBuffer: 8 << 20, Backlog: 4096, Somaxconn: 4096, DualStack: true},
			want: "sndbuf=8192KiB rcvbuf=8192KiB backlog=4096 somaxconn=4096 dual-stack=true"},
		{name: "somaxconn unknown", in: Effective{SendBuffer: 4608, RecvBuffer: 2304, Backlog: 128},
			want: "sndbuf=4KiB rcvbuf=2KiB backlog=128 somaxconn=unknown dual-stack=false"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.String()
			if got != tc.want || strings.Contains(got, "\n") {
				t.Fatalf("%+v.String() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestListenGroupBadArguments(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		n       int
		wantErr string
	}{
		{name: "no listeners", cfg: Config{Host: "127.0.0.1"}, n: 0, wantErr: "socket: listen group of 0 listeners, want at least 1"},
		{name: "host name", cfg: Config{Host: "example.com"}, n: 1, wantErr: `socket: host "example.com" is not an IP address or "localhost" (host names are not resolved)`},
		{name: "bad port", cfg: Config{Host: "127.0.0.1", Port: 99999}, n: 1, wantErr: "socket: port 99999 out of range 0-65535"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lns, err := ListenGroup(tc.cfg, tc.n)
			if err == nil || err.Error() != tc.wantErr {
				for _, l := range lns {
					l.Close()
				}
				t.Fatalf("ListenGroup(%+v, %d) error = %v, want %q", tc.cfg, tc.n, err, tc.wantErr)
			}
		})
	}
}
