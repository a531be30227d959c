package vmtest

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// File is one entry of an initramfs.
type File struct {
	// Name is the slash-separated path without a leading slash.
	Name string
	// Mode holds the permission bits, plus fs.ModeDir for a directory.
	Mode fs.FileMode
	// Data is the content of a regular file.
	Data []byte
}

// WriteCPIO writes files as one newc cpio archive, the format the kernel
// unpacks as an initramfs. Missing parent directories are added with mode
// 0755 before the first file inside them.
func WriteCPIO(w io.Writer, files []File) error {
	cw := cpioWriter{w: w, dirs: map[string]bool{".": true}}
	for _, f := range files {
		name := strings.TrimPrefix(f.Name, "/")
		if !fs.ValidPath(name) || name == "." {
			return fmt.Errorf("cpio: bad name %q", f.Name)
		}
		if err := cw.parents(path.Dir(name)); err != nil {
			return err
		}
		if f.Mode.IsDir() {
			cw.dirs[name] = true
		}
		if err := cw.entry(name, f.Mode, f.Data); err != nil {
			return err
		}
	}
	return cw.entry("TRAILER!!!", 0, nil)
}

type cpioWriter struct {
	w    io.Writer
	ino  int
	dirs map[string]bool
}

func (cw *cpioWriter) parents(dir string) error {
	if cw.dirs[dir] {
		return nil
	}
	if err := cw.parents(path.Dir(dir)); err != nil {
		return err
	}
	cw.dirs[dir] = true
	return cw.entry(dir, fs.ModeDir|0o755, nil)
}

// entry writes one header, the name and the data, each padded to 4 bytes.
func (cw *cpioWriter) entry(name string, mode fs.FileMode, data []byte) error {
	cw.ino++
	kind := 0o100000
	if mode.IsDir() {
		kind = 0o040000
	}
	nlink := 1
	if mode.IsDir() {
		nlink = 2
	}
	if name == "TRAILER!!!" {
		kind, nlink = 0, 1
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		cw.ino, kind|int(mode.Perm()), 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	buf := make([]byte, 0, len(hdr)+len(name)+8+len(data))
	buf = append(buf, hdr...)
	buf = append(buf, name...)
	buf = append(buf, 0)
	buf = pad4(buf)
	buf = append(buf, data...)
	buf = pad4(buf)
	if _, err := cw.w.Write(buf); err != nil {
		return fmt.Errorf("cpio: write %q: %w", name, err)
	}
	return nil
}

// pad4 pads b with zeros to a multiple of 4 bytes. Every entry starts
// aligned, so padding the running buffer pads the archive.
func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}
