package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
)

// byteSize is a flag value in bytes: a plain number or one with a binary
// suffix (K, M, G, T, optionally followed by "iB" or "B"), or "auto".
type byteSize struct {
	n    int64
	auto bool
}

// Decode implements kong.MapperValue.
func (b *byteSize) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("size", &s); err != nil {
		return err
	}
	v, err := parseByteSize(s)
	if err != nil {
		return err
	}
	*b = v
	return nil
}

func (b byteSize) String() string {
	if b.auto {
		return "auto"
	}
	return strconv.FormatInt(b.n, 10)
}

func parseByteSize(s string) (byteSize, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "auto") {
		return byteSize{auto: true}, nil
	}
	shift := 0
	upper := strings.ToUpper(t)
	upper = strings.TrimSuffix(strings.TrimSuffix(upper, "B"), "I")
	if n := len(upper); n > 0 {
		if i := strings.IndexByte("KMGT", upper[n-1]); i >= 0 {
			shift = 10 * (i + 1)
			upper = upper[:n-1]
		}
	}
	n, err := strconv.ParseInt(upper, 10, 64)
	if err != nil || n < 0 || (shift > 0 && n > (1<<63-1)>>shift) {
		return byteSize{}, fmt.Errorf("bad size %q: want bytes, e.g. 1073741824, 512MiB, 4G or auto", s)
	}
	return byteSize{n: n << shift}, nil
}

// autoMemoryShare is the share of the memory the process may use that
// --max-memory=auto lets keys and values take: the rest covers the map's
// per-entry overhead, the garbage collector's headroom and connection
// buffers.
const autoMemoryShare = 4

// resolve turns auto into a quarter of the memory available to the process
// (the cgroup limit or the machine's RAM); 0 stays unlimited.
func (b byteSize) resolve() (int64, error) {
	if !b.auto {
		return b.n, nil
	}
	avail, err := availableMemory()
	if err != nil {
		return 0, fmt.Errorf("--max-memory=auto: %w (set a size instead)", err)
	}
	return avail / autoMemoryShare, nil
}
