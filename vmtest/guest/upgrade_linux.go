package main

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/http2"
)

// checkUpgrade sends GET / with "Upgrade: h2c", expects 101 and the answer
// as HTTP/2 stream 1, then sends GET /get/missing as stream 3 over the
// same connection and expects 404.
func checkUpgrade(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	// The settings payload sets MAX_CONCURRENT_STREAMS to 100.
	settings := base64.RawURLEncoding.EncodeToString([]byte{0, 3, 0, 0, 0, 100})
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: vmtest\r\nConnection: Upgrade, HTTP2-Settings\r\n"+
		"Upgrade: h2c\r\nHTTP2-Settings: %s\r\n\r\n", settings)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fmt.Errorf("read upgrade answer: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Upgrade") != "h2c" {
		return fmt.Errorf("upgrade answer %q, Upgrade %q, want 101 and h2c", resp.Status, resp.Header.Get("Upgrade"))
	}
	c.Write([]byte(http2.ClientPreface))
	fr := newFramer(c, br)
	if err := fr.WriteSettings(); err != nil {
		return err
	}
	if err := writeGet(fr, 3, "/get/vmtest-missing"); err != nil {
		return err
	}
	got, err := readAnswers(fr, 1, 3)
	if err != nil {
		return err
	}
	if a := got[1]; a.status != "200" || a.body.String() != "Hello, World!" {
		return fmt.Errorf("stream 1: %s %q, want 200 %q", a.status, a.body.String(), "Hello, World!")
	}
	if a := got[3]; a.status != "404" {
		return fmt.Errorf("stream 3: status %s, want 404", a.status)
	}
	return nil
}
