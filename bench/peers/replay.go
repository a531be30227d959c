package main

import (
	"bytes"
	"fmt"

	"github.com/corekv/corekv/bench/internal/kvproto"
	"github.com/corekv/corekv/bench/internal/zipf"
)

// replayer is a cache-aside client replaying a key stream: GET each key;
// on a miss, SET it. Requests go out in batches of distinct keys, each
// batch's GETs after the SETs that the previous batch's misses call for,
// so the server sees the order a one-request-at-a-time client would
// give it, except that a miss's SET follows the GETs of its batch (of
// other keys) instead of preceding them.
type replayer struct {
	conn    *kvproto.Conn
	ds      *dataset
	z       *zipf.Zipf
	batch   int
	warmup  int
	r       *hrResult
	seen    []uint32 // seen[k] == the batch number while key k is in it
	keys    []int    // the batch's keys
	first   int      // the index in the stream of the batch's first request
	pending []miss   // misses whose SETs go out with the next batch
	next    []miss
	key     []byte
}

// miss is a key to SET and whether its request is counted.
type miss struct {
	key     int
	counted bool
}

// replay sends h.Requests requests from z and counts outcomes into r.
func (h *hitratioCmd) replay(conn *kvproto.Conn, ds *dataset, z *zipf.Zipf, r *hrResult) error {
	p := &replayer{conn: conn, ds: ds, z: z, batch: h.Batch, warmup: h.Warmup, r: r, seen: make([]uint32, z.N())}
	carry := -1
	for sent, n := 0, uint32(1); sent < h.Requests; n++ {
		p.keys, p.first = p.keys[:0], sent
		for len(p.keys) < p.batch && sent < h.Requests {
			k := carry
			if k < 0 {
				k = z.Next()
			}
			if p.seen[k] == n {
				carry = k // it starts the next batch
				break
			}
			carry = -1
			p.seen[k] = n
			p.keys = append(p.keys, k)
			sent++
		}
		if err := p.send(); err != nil {
			return err
		}
	}
	p.keys = p.keys[:0]
	return p.send() // the last misses' SETs
}

// send writes the pending SETs and the batch's GETs and reads the replies.
func (p *replayer) send() error {
	for _, m := range p.pending {
		p.key = appendKey(p.key[:0], m.key)
		p.conn.Set(p.key, p.ds.value(m.key, 0))
	}
	for _, k := range p.keys {
		p.key = appendKey(p.key[:0], k)
		p.conn.Get(p.key)
	}
	p.next = p.next[:0]
	err := p.conn.Flush(p.reply)
	p.pending, p.next = p.next, p.pending
	return err
}

// reply counts the reply to request i of the batch sent.
func (p *replayer) reply(i int, op kvproto.Op, rep kvproto.Reply) error {
	if op == kvproto.Set {
		m := p.pending[i]
		if m.counted {
			p.r.sets++
			if rep.Outcome == kvproto.NotStored {
				p.r.notStored++
			}
		}
		return nil
	}
	j := i - len(p.pending)
	k, counted := p.keys[j], p.first+j >= p.warmup
	if counted {
		p.r.counted++
	}
	if rep.Outcome == kvproto.Miss {
		p.next = append(p.next, miss{key: k, counted: counted})
		return nil
	}
	if want := p.ds.value(k, 0); !bytes.Equal(rep.Value, want) {
		return fmt.Errorf("GET key %d: %d bytes, not the %d stored", k, len(rep.Value), len(want))
	}
	if counted {
		p.r.hits++
	}
	return nil
}
