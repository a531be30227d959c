package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/corekv/corekv/bench/internal/suite"
)

// bar draws a one-line progress bar, rewritten in place.
type bar struct {
	w     io.Writer
	width int
}

func newBar(w io.Writer) *bar { return &bar{w: w, width: 30} }

func (b *bar) update(p suite.Progress) {
	if p.Total == 0 {
		fmt.Fprintf(b.w, "\r\x1b[K%s", p.What)
		return
	}
	if p.Done >= p.Total {
		fmt.Fprint(b.w, "\r\x1b[K")
		return
	}
	n := b.width * p.Done / p.Total
	fmt.Fprintf(b.w, "\r\x1b[K[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", b.width-n), p.Done, p.Total, p.What)
}
