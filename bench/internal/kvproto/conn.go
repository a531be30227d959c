package kvproto

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Config says how to connect.
type Config struct {
	// Timeout bounds dialling and each Flush. Default 30s.
	Timeout time.Duration
	// ReadBuffer is the initial size of the read buffer in bytes; it
	// grows to hold the largest reply. Default 256 KiB.
	ReadBuffer int
}

func (c Config) withDefaults() Config {
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = 256 << 10
	}
	return c
}

// Conn is one connection that sends requests in batches: Get and Set
// queue a request, Flush writes the batch in one write (while it reads)
// and hands each reply, in order, to a callback. It is not safe for
// concurrent use.
type Conn struct {
	nc    net.Conn
	proto Protocol
	cfg   Config
	w     []byte // the batch's requests
	ops   []Op   // the batch's request kinds
	r     []byte // the read buffer; r[start:end] is unparsed
	start int
	end   int
}

// Dial connects to addr (host:port) to speak p.
func Dial(ctx context.Context, addr string, p Protocol, cfg Config) (*Conn, error) {
	cfg = cfg.withDefaults()
	d := net.Dialer{Timeout: cfg.Timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{nc: nc, proto: p, cfg: cfg, r: make([]byte, cfg.ReadBuffer)}, nil
}

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// Get queues a GET of key.
func (c *Conn) Get(key []byte) {
	c.w = c.proto.AppendGet(c.w, key)
	c.ops = append(c.ops, Get)
}

// Set queues a SET of key to value.
func (c *Conn) Set(key, value []byte) {
	c.w = c.proto.AppendSet(c.w, key, value)
	c.ops = append(c.ops, Set)
}

// Pending returns the number of queued requests.
func (c *Conn) Pending() int { return len(c.ops) }

// Flush sends the queued requests and calls each, in order, with the
// index of the request in the batch and its reply. The reply's Value is
// valid only during the call. An error from each stops the batch and is
// returned; the connection is then unusable.
func (c *Conn) Flush(each func(i int, op Op, r Reply) error) error {
	if len(c.ops) == 0 {
		return nil
	}
	if err := c.nc.SetDeadline(time.Now().Add(c.cfg.Timeout)); err != nil {
		return err
	}
	// Write while reading: a batch larger than the sockets' buffers would
	// otherwise stall both ends.
	wrote := make(chan error, 1)
	go func() {
		_, err := c.nc.Write(c.w)
		wrote <- err
	}()
	err := c.readReplies(each)
	if err != nil {
		c.nc.Close() // unblocks the writer
	}
	werr := <-wrote
	c.w, c.ops = c.w[:0], c.ops[:0]
	if err != nil {
		return err
	}
	if werr != nil {
		return fmt.Errorf("write to %s: %w", c.proto.Name(), werr)
	}
	return nil
}

// readReplies parses one reply per queued request, reading as needed.
func (c *Conn) readReplies(each func(i int, op Op, r Reply) error) error {
	for i, op := range c.ops {
		for {
			r, n, err := c.proto.Parse(op, c.r[c.start:c.end])
			if err == nil {
				c.start += n
				if err := each(i, op, r); err != nil {
					return err
				}
				break
			}
			if !errors.Is(err, ErrIncomplete) {
				return err
			}
			if err := c.fill(); err != nil {
				return fmt.Errorf("read reply %d of %d from %s: %w", i+1, len(c.ops), c.proto.Name(), err)
			}
		}
	}
	return nil
}

// fill reads more bytes, first moving the unparsed ones to the front of
// the buffer and growing it when they fill it.
func (c *Conn) fill() error {
	if c.start > 0 {
		c.end = copy(c.r, c.r[c.start:c.end])
		c.start = 0
	}
	if c.end == len(c.r) {
		c.r = append(c.r, make([]byte, len(c.r))...)
	}
	n, err := c.nc.Read(c.r[c.end:])
	c.end += n
	if n > 0 {
		return nil
	}
	return err
}
