package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/corekv/corekv/vmtest"
)

const sysCPU, sysNode = "/sys/devices/system/cpu", "/sys/devices/system/node"

// checkSysfs compares the kernel's view in /sys with the Preset.
func (g *guest) checkSysfs() error {
	var c collect
	all := make([]int, g.spec.Preset.NumCPU())
	for i := range all {
		all[i] = i
	}
	c.add(wantFile(sysCPU+"/online", vmtest.FormatList(g.layout.IDs())))
	c.add(wantFile(sysCPU+"/present", vmtest.FormatList(all)))
	c.add(wantFile(sysCPU+"/possible", vmtest.FormatList(all)))
	c.add(wantFile(sysCPU+"/offline", vmtest.FormatList(g.spec.Preset.Offline)))
	for _, cpu := range g.layout.CPUs {
		dir := fmt.Sprintf("%s/cpu%d/topology/", sysCPU, cpu.CPU)
		c.add(wantFile(dir+"physical_package_id", strconv.Itoa(cpu.Package)))
		c.add(wantFile(dir+"core_id", strconv.Itoa(cpu.Core)))
		c.add(wantFile(dir+"thread_siblings_list", vmtest.FormatList(cpu.Siblings)))
	}
	var nodes, withCPU, withMem []int
	for _, n := range g.layout.Nodes {
		nodes = append(nodes, n.Node)
		if len(n.CPUs) > 0 {
			withCPU = append(withCPU, n.Node)
		}
		if n.Memory {
			withMem = append(withMem, n.Node)
		}
		dir := fmt.Sprintf("%s/node%d/", sysNode, n.Node)
		c.add(wantFile(dir+"cpulist", vmtest.FormatList(n.CPUs)))
		c.add(wantFile(dir+"distance", joinInts(n.Distances, " ")))
	}
	c.add(wantFile(sysNode+"/online", vmtest.FormatList(nodes)))
	c.add(wantFile(sysNode+"/has_cpu", vmtest.FormatList(withCPU)))
	c.add(wantFile(sysNode+"/has_memory", vmtest.FormatList(withMem)))
	return c.err()
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, sep)
}

// dumpFiles matches the /sys files that the topology fixtures hold,
// relative to /sys/devices/system.
var dumpFiles = regexp.MustCompile(`^(cpu/(online|offline|possible|present)|` +
	`cpu/cpu[0-9]+/(online|topology/[a-z_]+)|` +
	`node/(online|possible|has_cpu|has_memory|has_normal_memory)|` +
	`node/node[0-9]+/(cpulist|cpumap|distance))$`)

// dumpSysfs sends the topology files of /sys as a gzipped tar in base64
// DATA lines.
func (g *guest) dumpSysfs() error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	n := 0
	base := "/sys/devices/system"
	err := filepath.WalkDir(base, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(name, base), "/")
		if d.IsDir() {
			return skipDir(rel)
		}
		if !d.Type().IsRegular() || !dumpFiles.MatchString(rel) {
			return nil
		}
		n++
		return addFile(tw, name)
	})
	err = errors.Join(err, tw.Close(), zw.Close())
	if err != nil {
		return err
	}
	enc := base64.StdEncoding.EncodeToString(buf.Bytes())
	for chunk := range slices.Chunk([]byte(enc), 76) {
		g.rep.line("DATA %s %s", vmtest.SysfsStream, chunk)
	}
	g.rep.log("dumped %d files, %d bytes", n, buf.Len())
	return nil
}

// dumpDirs matches the directories that can hold dumpFiles.
var dumpDirs = regexp.MustCompile(`^(cpu|node|cpu/cpu[0-9]+|cpu/cpu[0-9]+/topology|node/node[0-9]+)$`)

// skipDir prunes the walk to the directories that hold dumpFiles.
func skipDir(rel string) error {
	if rel == "" || dumpDirs.MatchString(rel) {
		return nil
	}
	return fs.SkipDir
}

// addFile copies one sysfs file into tw; sysfs sizes are not the content
// lengths, so the file is read first.
func addFile(tw *tar.Writer, name string) error {
	data, err := os.ReadFile(name)
	if errors.Is(err, fs.ErrPermission) {
		return nil
	}
	if err != nil {
		return err
	}
	hdr := &tar.Header{Name: strings.TrimPrefix(name, "/"), Mode: 0o444, Size: int64(len(data)), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	_, err = tw.Write(data)
	return err
}
