package shard

import (
	"net/http"

	"github.com/corekv/corekv/api"
	"github.com/corekv/corekv/metrics"
)

// route is the metrics route of an operation.
func route(op api.Op) metrics.Route {
	switch op {
	case api.OpHello:
		return metrics.RouteHello
	case api.OpGet, api.OpHead:
		return metrics.RouteGet
	case api.OpSet:
		return metrics.RouteStore
	case api.OpDelete:
		return metrics.RouteDelete
	case api.OpStats:
		return metrics.RouteStats
	}
	return metrics.RouteNone
}

// lookup reports whether res answers a read of a key, and whether it was
// found. A read refused before the lookup (a malformed key) is neither.
func lookup(res *api.Result) (read, hit bool) {
	if res.Op != api.OpGet && res.Op != api.OpHead {
		return false, false
	}
	return res.Status == http.StatusOK || res.Status == http.StatusNotFound, res.Status == http.StatusOK
}

// countLoop counts a request the event loop answered over protocol p.
func countLoop(m *metrics.Counters, method string, p metrics.Proto, res *api.Result) {
	m.Request(route(res.Op), metrics.MethodOf(method), res.Status, p)
	if read, hit := lookup(res); read {
		m.Lookup(hit)
	}
}

// countHTTP counts a request net/http answered: in the std engine, or an
// HTTP/2 stream of either engine.
func (s *shard) countHTTP(r *http.Request, res *api.Result) {
	m := &s.m.Shared
	p := metrics.HTTP11
	switch {
	case r.ProtoMajor == 2:
		p = metrics.HTTP2
	case r.ProtoMinor == 0:
		p = metrics.HTTP10
	}
	m.Request(route(res.Op), metrics.MethodOf(r.Method), res.Status, p)
	if read, hit := lookup(res); read {
		m.Lookup(hit)
	}
}
