package soak

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"syscall"
)

// bigBatch is the size of the replies a pipeliner now and then asks for
// in one batch: more than the server's socket send buffer (8 MiB, as
// corekv logs it) and the client's receive window hold, so that the loop
// engine's writev is partial and the rest of the batch waits for the
// socket.
const bigBatch = 16 << 20

// pipeliner sends batches of GET and HEAD requests on one HTTP/1.1
// connection before reading the replies, as the loop engine answers a
// batch with one writev. The fifth batch, and every twentieth after it,
// is a big one.
func (l *soakLoad) pipeliner(ctx context.Context, p int) {
	rng := rand.New(rand.NewPCG(uint64(p), 3))
	var conn net.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	var br *bufio.Reader
	for n := 0; ctx.Err() == nil; n++ {
		if conn == nil {
			var err error
			if conn, err = net.Dial("tcp", l.srv.addr); err != nil {
				l.noReply("pipeline dial", err)
				return
			}
			br = bufio.NewReader(conn)
		}
		keys, heads := l.smallBatch(rng)
		if n%20 == 4 {
			keys, heads = l.bigBatch(rng)
		}
		keep, ok := l.batch(conn, br, keys, heads)
		if !ok {
			return
		}
		if !keep {
			conn.Close()
			conn = nil
		}
	}
}

// smallBatch is 2 to 16 reads of random keys, one in eight a HEAD.
func (l *soakLoad) smallBatch(rng *rand.Rand) ([]*soakKey, []bool) {
	n := 2 + rng.IntN(15)
	keys, heads := make([]*soakKey, n), make([]bool, n)
	for i := range n {
		keys[i], heads[i] = l.all[rng.IntN(len(l.all))], rng.IntN(8) == 0
	}
	return keys, heads
}

// bigBatch is GETs of the keys that now hold values of 16 KiB or more,
// over and over, until they add up to bigBatch bytes; a small batch if
// there are none.
func (l *soakLoad) bigBatch(rng *rand.Rand) ([]*soakKey, []bool) {
	var big []*soakKey
	var sizes []int64
	for _, k := range l.all {
		if _, n := l.entry(k, k.acked.Load()); n >= 16<<10 {
			big, sizes = append(big, k), append(sizes, n)
		}
	}
	if len(big) == 0 {
		return l.smallBatch(rng)
	}
	var keys []*soakKey
	for total, i := int64(0), 0; total < bigBatch; i++ {
		keys = append(keys, big[i%len(big)])
		total += sizes[i%len(big)]
	}
	return keys, make([]bool, len(keys))
}

// batch sends the reads in one write and checks the replies. It reports
// whether the connection may carry on and whether to go on.
func (l *soakLoad) batch(conn net.Conn, br *bufio.Reader, keys []*soakKey, heads []bool) (keep, ok bool) {
	n := len(keys)
	los := make([]uint64, n)
	var out []byte
	for i, k := range keys {
		los[i] = k.acked.Load()
		out = fmt.Appendf(out, "%s /get/%s HTTP/1.1\r\nHost: soak\r\n\r\n", readMethod(heads[i]), k.seg)
	}
	if _, err := conn.Write(out); err != nil {
		return false, l.streamError("pipeline write", err)
	}
	replies := make([]soakReply, n)
	for i := range n {
		what := fmt.Sprintf("pipelined reply %d of %d", i+1, n)
		resp, err := http.ReadResponse(br, &http.Request{Method: readMethod(heads[i])})
		if err != nil {
			return false, l.streamError(what, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return false, l.streamError(what, err)
		}
		replies[i] = soakReply{status: resp.StatusCode, body: body, length: resp.ContentLength, close: resp.Close}
		if resp.Close {
			// Draining, the server closes after the request it is
			// answering and leaves the rest unanswered (RFC 9112, 9.6).
			if i < n-1 && !l.srv.sigterm.Load() {
				return false, l.fail.add("%s closes the connection", what)
			}
			replies = replies[:i+1]
			break
		}
	}
	for i, r := range replies {
		if !l.checkRead(keys[i], heads[i], r, los[i], keys[i].started.Load()) {
			return false, false
		}
	}
	if len(replies) < n {
		l.cut.Add(int64(n - len(replies)))
	}
	return len(replies) == n && !replies[n-1].close, true
}

// streamError handles an error reading replies off a connection: one that
// ended (EOF, also in the middle of a reply, or a reset) is a request with
// no reply; bytes that are not a reply are a failure, during the drain too.
func (l *soakLoad) streamError(what string, err error) bool {
	for _, end := range []error{io.EOF, io.ErrUnexpectedEOF, syscall.ECONNRESET, syscall.EPIPE} {
		if errors.Is(err, end) {
			return l.noReply(what, err)
		}
	}
	return l.fail.add("%s: not a reply: %v", what, err)
}
