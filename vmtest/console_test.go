package vmtest

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseConsole(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *Report
		wantErr string
	}{
		{
			name: "results amid kernel noise",
			in: "[    0.000000] Linux version 6.1\r\nVMTEST PASS boot preset=1s cpus=4\r\n" +
				"[    3.1] random: crng init done\nVMTEST FAIL sysfs: a: b\nVMTEST LOG hello there\nVMTEST DONE\r\n",
			want: &Report{
				Results: []Result{{"boot", true, "preset=1s cpus=4"}, {"sysfs", false, "a: b"}},
				Logs:    []string{"hello there"},
				Data:    map[string][]byte{},
				Done:    true,
			},
		},
		{
			name: "data chunks joined per stream",
			in:   "VMTEST DATA s aGVs\nVMTEST DATA t eA==\nVMTEST DATA s bG8=\nVMTEST PASS dump\n",
			want: &Report{
				Results: []Result{{"dump", true, ""}},
				Data:    map[string][]byte{"s": []byte("hello"), "t": []byte("x")},
			},
		},
		{
			name: "prefix after a kernel message on the same line",
			in:   "[ 5.0] smpboot: CPU 3 is now offlineVMTEST PASS offline\n",
			want: &Report{Results: []Result{{"offline", true, ""}}, Data: map[string][]byte{}},
		},
		{name: "unknown verb", in: "VMTEST MAYBE x\n", wantErr: `unknown verb "MAYBE"`},
		{name: "data without stream", in: "VMTEST DATA\n", wantErr: "DATA without stream name"},
		{name: "bad base64", in: "VMTEST DATA s !!\n", wantErr: `decode stream "s"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseConsole([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseConsole(%q) error = %v, want %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseConsole(%q) = %+v, %v, want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr []string
	}{
		{"all there", "VMTEST PASS a\nVMTEST PASS b x\nVMTEST DONE\n", []string{"a", "b"}, nil},
		{"failed check", "VMTEST PASS a\nVMTEST FAIL b: broke\nVMTEST DONE\n", []string{"a", "b"}, []string{"check b failed: broke"}},
		{"missing check", "VMTEST PASS a\nVMTEST DONE\n", []string{"a", "b"}, []string{"check b: no result"}},
		{"no done", "VMTEST PASS a\n", []string{"a"}, []string{"no DONE line"}},
		{"empty console", "", []string{"boot"}, []string{"check boot: no result", "no DONE line"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseConsole([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			err = r.Verify(tc.want)
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Errorf("Verify(%q) = %v, want nil", tc.want, err)
				}
				return
			}
			for _, w := range tc.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Verify(%q) = %v, want it to say %q", tc.want, err, w)
				}
			}
		})
	}
}

func FuzzParseConsole(f *testing.F) {
	f.Add("VMTEST PASS boot x\nVMTEST DATA s aGVs\nVMTEST DONE\n")
	f.Add("VMTEST FAIL a: b\r\nnoise VMTEST LOG x\n")
	f.Add("VMTEST DATA\nVMTEST \n")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := ParseConsole([]byte(in))
		if r == nil {
			t.Fatalf("ParseConsole(%q) returned a nil report", in)
		}
		if err != nil {
			return
		}
		// Every result and log comes from a line holding the prefix.
		if n := strings.Count(in, Prefix); len(r.Results)+len(r.Logs) > n {
			t.Errorf("ParseConsole(%q): %d results and logs from %d prefixes", in, len(r.Results)+len(r.Logs), n)
		}
		if r.Verify(nil) == nil && !r.Done {
			t.Errorf("Verify passed without DONE")
		}
	})
}
