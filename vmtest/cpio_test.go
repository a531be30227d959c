package vmtest

import (
	"bytes"
	"io/fs"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one entry read back by readCPIO.
type cpioEntry struct {
	name string
	mode uint64
	data string
}

// readCPIO is a minimal newc reader for checking WriteCPIO's output.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	for off := 0; ; {
		if off%4 != 0 || off+110 > len(b) || string(b[off:off+6]) != "070701" {
			t.Fatalf("bad header at %d", off)
		}
		field := func(i int) uint64 {
			v, err := strconv.ParseUint(string(b[off+6+8*i:off+14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("header at %d field %d: %v", off, i, err)
			}
			return v
		}
		mode, size, namesize := field(1), int(field(6)), int(field(11))
		name := string(b[off+110 : off+110+namesize-1])
		off = align4(off + 110 + namesize)
		data := string(b[off : off+size])
		off = align4(off + size)
		if name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after the trailer", len(b)-off)
			}
			return out
		}
		out = append(out, cpioEntry{name, mode, data})
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

func TestWriteCPIO(t *testing.T) {
	var buf bytes.Buffer
	files := []File{
		{Name: "init", Mode: 0o755, Data: []byte("#!binary")},
		{Name: "/bin/corekv", Mode: 0o755, Data: []byte("abc")},
		{Name: "vmtest/spec.json", Mode: 0o644, Data: []byte(`{"x":1}`)},
		{Name: "vmtest/more", Mode: 0o600},
		{Name: "empty", Mode: fs.ModeDir | 0o700},
	}
	if err := WriteCPIO(&buf, files); err != nil {
		t.Fatal(err)
	}
	want := []cpioEntry{
		{"init", 0o100755, "#!binary"},
		{"bin", 0o040755, ""},
		{"bin/corekv", 0o100755, "abc"},
		{"vmtest", 0o040755, ""},
		{"vmtest/spec.json", 0o100644, `{"x":1}`},
		{"vmtest/more", 0o100600, ""},
		{"empty", 0o040700, ""},
	}
	got := readCPIO(t, buf.Bytes())
	if len(got) != len(want) {
		t.Fatalf("WriteCPIO wrote %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestWriteCPIORejects(t *testing.T) {
	for _, name := range []string{"", "/", "../x", "a//b", "a/./b"} {
		err := WriteCPIO(&bytes.Buffer{}, []File{{Name: name}})
		if err == nil || !strings.Contains(err.Error(), "cpio: bad name") {
			t.Errorf("WriteCPIO(%q) = %v, want bad name error", name, err)
		}
	}
}
