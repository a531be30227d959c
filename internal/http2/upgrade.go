package http2

import (
	"encoding/binary"
	"errors"

	xhttp2 "golang.org/x/net/http2"
)

// Switching is the answer to an accepted Upgrade: h2c request.
const Switching = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"

// ErrSettings is returned by Upgrade for an HTTP2-Settings payload that is
// not a valid SETTINGS frame payload.
var ErrSettings = errors.New("http2: invalid HTTP2-Settings")

// Upgrade starts a new connection from an HTTP/1.1 Upgrade: h2c request
// (RFC 7540, section 3.2): settings is its decoded HTTP2-Settings, applied
// without an acknowledgement. It appends 101 Switching Protocols, our
// SETTINGS and the answer to the request, which becomes stream 1 (half
// closed), and expects the client preface next. On ErrSettings nothing is
// appended and the request should be served over HTTP/1.1.
func (c *Conn) Upgrade(settings []byte, method, path string, body []byte, out Sink) error {
	if c.started || len(settings)%6 != 0 {
		return ErrSettings
	}
	for p := settings; len(p) > 0; p = p[6:] {
		s := xhttp2.Setting{ID: xhttp2.SettingID(binary.BigEndian.Uint16(p)), Val: binary.BigEndian.Uint32(p[2:])}
		if s.Valid() != nil {
			return ErrSettings
		}
	}
	c.out = out
	c.srv.w.b = out.Buffer()
	c.srv.feeding = c
	defer c.retain()
	*out.Buffer() = append(*out.Buffer(), Switching...)
	c.start()
	for p := settings; len(p) > 0; p = p[6:] {
		c.apply(xhttp2.Setting{ID: xhttp2.SettingID(binary.BigEndian.Uint16(p)), Val: binary.BigEndian.Uint32(p[2:])})
	}
	s := c.open(1)
	if s == nil {
		return nil // refused: RST_STREAM sent
	}
	s.method, s.path = method, path
	s.body = append(s.body, body...)
	c.bodyBuffered += len(s.body)
	c.complete(s)
	return nil
}
