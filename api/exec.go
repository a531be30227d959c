package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/corekv/corekv/store"
)

// Content types of the API's answers.
const (
	TypeText  = "text/plain; charset=utf-8"
	TypeValue = "application/octet-stream"
	TypeJSON  = "application/json"
)

// Exec carries out the API's operations: the one place that decides what a
// request does to the store and what it is answered, whatever protocol
// carried it. Each protocol parses its requests, calls Do and encodes the
// Result.
type Exec struct {
	Store  *store.Cache
	Limits Limits // zero fields mean the defaults
	// DefaultTTL is the time to live of a value stored without a ttl
	// parameter; 0 means none.
	DefaultTTL time.Duration
	// Stats writes the JSON document served at /stats.
	Stats func(w io.Writer) error
	// Logf logs what went wrong inside when a request is answered 500 or
	// its body could not be read. Nil means no logging.
	Logf func(format string, args ...any)
}

// Request is an API request, whatever protocol carried it.
type Request struct {
	Method string
	// Target is the request target in origin form: the path, still
	// percent-encoded, and any query.
	Target string
	// Unframed is true for an HTTP/1 request that declared no body length:
	// neither Content-Length nor chunked framing. A store then needs 411.
	Unframed bool
	// Body reads the value of a store request. Do calls it at most once,
	// and only for a store.
	Body Body
	// Shard is the event loop's handle on the store. With one, Do reads
	// values zero-copy (Result.Value then follows the value-lifetime
	// rule) and stores through it; without one (goroutine-based paths:
	// Handler, x/net's HTTP/2 server) Do reads through the store's
	// copying Get, so Value is the caller's to keep.
	Shard *store.Shard
}

// Body reads a request's body.
type Body interface {
	// Value returns the whole body. A body of more than max bytes is
	// refused with ErrValueTooLarge (or an error wrapping it); any other
	// error is a body that could not be read.
	Value(max int) ([]byte, error)
}

// SizedBody is a Body already received whole, whose decoded length is
// known: with a Request.Shard, Do has it decoded straight into the
// store's memory, with no copy in between.
type SizedBody interface {
	Body
	// Size returns the length of the decoded body.
	Size() int
	// DecodeTo decodes the body into dst, which is Size bytes long.
	DecodeTo(dst []byte)
}

// Result is the answer to a request, for its protocol to encode: a status,
// header values, and a body made of Text, the Problem's message and a
// newline, and Value, in that order (at most one of them is set).
//
// Value follows the value-lifetime rule (COMMON.md): a stored value that an
// event loop got through its Request.Shard is valid until that loop's next
// quiescent point, so the loop may send it zero-copy within the current
// iteration and must copy what outlives it. Without a Shard, Do copies.
type Result struct {
	// Op is the operation the request asked for, OpNone when it matched
	// none: for metrics and logs.
	Op          Op
	Status      int
	ContentType string // "" when the answer has no body
	Allow       string // the methods a 405 answer lists
	// Head is true for the answer to a HEAD request: send the header
	// fields of the body, its length included, but not the body.
	Head bool
	// Close is true when the connection must close after the answer
	// (HTTP/1): the rest of a refused body was left unread.
	Close   bool
	Text    string
	Problem *Problem
	Value   []byte
	// MaxAge is, for a value that expires, the whole seconds it has left
	// to live, for a Cache-Control: max-age header; 0 when it does not.
	MaxAge int64
}

// Len returns the length of the result's body.
func (r *Result) Len() int {
	n := len(r.Text) + len(r.Value)
	if r.Problem != nil {
		n += len(r.Problem.Msg) + 1
	}
	return n
}

// Refusal returns the answer that refuses a request with p.
func Refusal(p *Problem) Result {
	var res Result
	res.refuse(p)
	return res
}

func (res *Result) refuse(p *Problem) {
	res.Status, res.ContentType, res.Problem = p.Status, TypeText, p
}

// Do carries out the request r. key is scratch space for the decoded key:
// with room for Limits.MaxKeySize bytes, Do does not allocate to answer a
// GET, a HEAD or GET /.
func (x *Exec) Do(r *Request, key []byte) (res Result) {
	rt := match(r.Method, splitTarget(r.Target))
	res.Op, res.Head = rt.Op, rt.Head
	switch {
	case rt.Op == OpNone && rt.Status == http.StatusMethodNotAllowed:
		res.refuse(ErrMethod)
		res.Allow, res.Head = rt.Allow, r.Method == http.MethodHead
		return res
	case rt.Op == OpNone:
		res.refuse(ErrNoRoute)
		res.Head = r.Method == http.MethodHead
		return res
	}
	lim := x.Limits.WithDefaults()
	if rt.Op.HasKey() {
		var p *Problem
		if key, p = appendKey(key[:0], rt.Key, lim.MaxKeySize); p != nil {
			res.refuse(p)
			return res
		}
	}
	x.do(&res, key, r, lim)
	return res
}

// do carries out the operation res.Op on key and fills in res.
func (x *Exec) do(res *Result, key []byte, r *Request, lim Limits) {
	switch res.Op {
	case OpHello:
		res.Status, res.ContentType, res.Text = http.StatusOK, TypeText, Hello
	case OpGet, OpHead:
		var v []byte
		var ttl time.Duration
		var ok bool
		if r.Shard != nil {
			v, ttl, ok = r.Shard.Get(key)
		} else {
			v, ttl, ok = x.Store.Get(nil, key)
		}
		if !ok {
			res.refuse(ErrNoKey)
			return
		}
		res.Status, res.ContentType, res.Value = http.StatusOK, TypeValue, v
		res.MaxAge = int64(ttl / time.Second)
	case OpSet:
		x.set(res, key, r, lim)
	case OpDelete:
		ok := false
		if r.Shard != nil {
			ok = r.Shard.Delete(key)
		} else {
			ok = x.Store.Delete(key)
		}
		if !ok {
			res.refuse(ErrNoKey)
			return
		}
		res.Status = http.StatusNoContent
	case OpStats:
		var b bytes.Buffer
		if err := x.Stats(&b); err != nil {
			x.logf("write /stats: %v", err)
			res.refuse(ErrInternal)
			return
		}
		res.Status, res.ContentType, res.Value = http.StatusOK, TypeJSON, b.Bytes()
	}
}

func (x *Exec) set(res *Result, key []byte, r *Request, lim Limits) {
	if r.Unframed {
		res.refuse(ErrNoLength)
		return
	}
	ttl, p := parseTTL(r.Target, x.DefaultTTL)
	if p != nil {
		res.refuse(p)
		return
	}
	if b, ok := r.Body.(SizedBody); ok && r.Shard != nil && b.Size() <= lim.MaxValueSize {
		v, err := r.Shard.Begin(key, b.Size(), ttl)
		if err == nil {
			b.DecodeTo(v)
			err = r.Shard.Commit()
		}
		x.stored(res, key, err)
		return
	}
	v, err := r.Body.Value(lim.MaxValueSize)
	if err != nil {
		res.refuse(ErrValueTooLarge)
		if !errors.Is(err, ErrValueTooLarge) {
			x.logf("read the body of %s %s: %v", r.Method, r.Target, err)
			res.refuse(ErrBadBody)
		}
		res.Close = true
		return
	}
	if r.Shard != nil {
		err = r.Shard.Set(key, v, ttl)
	} else {
		err = x.Store.Set(key, v, ttl)
	}
	x.stored(res, key, err)
}

// stored answers a store whose outcome was err.
func (x *Exec) stored(res *Result, key []byte, err error) {
	switch {
	case err == nil:
		res.Status, res.ContentType, res.Text = http.StatusOK, TypeText, Stored
	case errors.Is(err, store.ErrFull):
		res.refuse(ErrStoreFull)
	case errors.Is(err, store.ErrTooLarge):
		res.refuse(ErrValueTooLarge)
	case errors.Is(err, store.ErrKeyTooLong):
		res.refuse(ErrKeyTooLong)
	default:
		x.logf("store %q: %v", key, err)
		res.refuse(ErrInternal)
	}
}

func (x *Exec) logf(format string, args ...any) {
	if x.Logf != nil {
		x.Logf(format, args...)
	}
}
