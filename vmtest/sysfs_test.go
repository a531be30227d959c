package vmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func makeTGZ(t *testing.T, files map[string]string, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, name := range names {
		data := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o444, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.WriteHeader(&tar.Header{Name: "sys/link", Linkname: "/etc/passwd", Typeflag: tar.TypeSymlink})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

func TestUnpackSysfs(t *testing.T) {
	files := map[string]string{
		"sys/devices/system/cpu/online":                           "0-2,4-5,7\n",
		"sys/devices/system/cpu/cpu3/online":                      "0\n",
		"sys/devices/system/node/node1/distance":                  "21 10\n",
		"sys/devices/system/cpu/cpu0/topology/core_siblings_list": "0-3\n",
	}
	var names []string
	for n := range files {
		names = append(names, n)
	}
	dir := t.TempDir()
	if err := UnpackSysfs(makeTGZ(t, files, names...), dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v, want %q", name, got, err, want)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "sys/link")); err == nil {
		t.Errorf("UnpackSysfs wrote a symlink")
	}
}

func TestUnpackSysfsRejects(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr string
	}{
		{"escape", makeTGZ(t, map[string]string{"../evil": "x"}, "../evil"), `name "../evil" leaves the target`},
		{"absolute", makeTGZ(t, map[string]string{"/evil": "x"}, "/evil"), `name "/evil" leaves the target`},
		{"not gzip", []byte("plain"), "unpack sysfs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := UnpackSysfs(tc.in, t.TempDir())
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("UnpackSysfs() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}
