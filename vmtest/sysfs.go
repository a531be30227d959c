package vmtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// SysfsStream is the console DATA stream that carries the guest's /sys
// topology files as a gzipped tar whose names start with "sys/".
const SysfsStream = "sysfs"

// UnpackSysfs writes the regular files of the gzipped tar tgz under dir,
// creating directories as needed. It refuses names that leave dir.
func UnpackSysfs(tgz []byte, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("unpack sysfs: %w", err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("unpack sysfs: %w", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		if !filepath.IsLocal(hdr.Name) {
			return fmt.Errorf("unpack sysfs: name %q leaves the target", hdr.Name)
		}
		if err := writeFrom(filepath.Join(dir, hdr.Name), tr); err != nil {
			return fmt.Errorf("unpack sysfs: %w", err)
		}
	}
}

func writeFrom(name string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	return os.WriteFile(name, data, 0o644)
}
