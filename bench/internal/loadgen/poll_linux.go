package loadgen

import (
	"context"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// poller is the core of a client event loop: an epoll set of
// connections, identified by their index, with a timerfd that wakes a
// blocking wait at a given time (nanosecond precision, where Go's own
// timers round to milliseconds) and an eventfd that wakes it on
// cancellation.
type poller struct {
	epfd   int
	timer  int
	wake   int
	armed  time.Time
	events []unix.EpollEvent
}

// Event ids of the two non-connection descriptors.
const (
	pollTimerID = -1
	pollWakeID  = -2
)

func (p *poller) open() error {
	p.epfd, p.timer, p.wake = -1, -1, -1
	p.events = make([]unix.EpollEvent, 256)
	var err error
	if p.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return os.NewSyscallError("epoll_create1", err)
	}
	if p.timer, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return os.NewSyscallError("timerfd_create", err)
	}
	if p.wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return os.NewSyscallError("eventfd", err)
	}
	if err := p.add(p.timer, pollTimerID, unix.EPOLLIN); err != nil {
		return err
	}
	return p.add(p.wake, pollWakeID, unix.EPOLLIN)
}

func (p *poller) add(fd int, id int32, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: id}
	if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *poller) close() {
	for _, fd := range []int{p.epfd, p.timer, p.wake} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// arm sets the timer to fire at t, unless it already does.
func (p *poller) arm(t time.Time) {
	if t.Equal(p.armed) {
		return
	}
	p.armed = t
	d := max(time.Until(t), 1) // 0 would disarm it
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d.Nanoseconds())}
	_ = unix.TimerfdSettime(p.timer, 0, &spec, nil) // arguments are valid: cannot fail
}

// watchCancel makes cancellation of ctx wake the poller.
func (p *poller) watchCancel(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		var one = [8]byte{1}
		_, _ = unix.Write(p.wake, one[:])
	})
}

// wait returns the connections' events: at once when polling, or when
// something happens or until passes when block is set. cancelled reports
// the eventfd's wake-up.
func (p *poller) wait(block bool, until time.Time) (events []unix.EpollEvent, cancelled bool) {
	timeout := 0
	if block {
		p.arm(until)
		timeout = -1
	}
	n, err := unix.EpollWait(p.epfd, p.events, timeout)
	if err != nil || n == 0 {
		return nil, false // EINTR or nothing yet: look again
	}
	events = p.events[:0]
	for _, ev := range p.events[:n] {
		switch ev.Fd {
		case pollTimerID:
			var buf [8]byte
			_, _ = unix.Read(p.timer, buf[:])
			p.armed = time.Time{}
		case pollWakeID:
			cancelled = true
		default:
			events = append(events, ev)
		}
	}
	return events, cancelled
}
