package shard

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// buffersSize is the size of the memory mapBuffers asks for: the read
// buffer, then the epoll event array.
const buffersSize = readBufSize + maxEvents*int(unsafe.Sizeof(unix.EpollEvent{}))

// mapBuffers takes the loop's read buffer and event array from memory
// that Config.MapBuffers maps for the shard's node. Both are pointer-free,
// so memory the garbage collector does not scan may hold them.
func (l *loop) mapBuffers() error {
	if l.cfg.MapBuffers == nil {
		return nil
	}
	mem, err := l.cfg.MapBuffers(buffersSize, l.s.plan.Node)
	if err != nil {
		return fmt.Errorf("shard %d: map buffers for node %d: %w", l.s.plan.Shard, l.s.plan.Node, err)
	}
	if len(mem) < buffersSize {
		unix.Munmap(mem)
		return fmt.Errorf("shard %d: MapBuffers returned %d bytes, want %d", l.s.plan.Shard, len(mem), buffersSize)
	}
	l.mapped = mem
	l.rbuf = mem[:readBufSize:readBufSize]
	l.events = unsafe.Slice((*unix.EpollEvent)(unsafe.Pointer(&mem[readBufSize])), maxEvents)
	return nil
}

// unmapBuffers releases what mapBuffers mapped; the loop has ended.
func (l *loop) unmapBuffers() {
	if l.mapped == nil {
		return
	}
	l.rbuf, l.events = nil, nil
	unix.Munmap(l.mapped)
	l.mapped = nil
}
