package main

import (
	"strconv"
)

// patternLen is the length of the letters values are cut from; values
// start at one of patternPeriod offsets in it.
const (
	patternPeriod = 61
	patternLen    = patternPeriod + 1<<20
)

// dataset names keys and makes their values, the same bytes for every
// server: key i is "key" and i in 7 or more digits; version v of its
// value is a run of letters starting at an offset that depends on i and v.
type dataset struct {
	pattern []byte
	// size returns the value size of key i.
	size func(i int) int
}

func newDataset(size func(i int) int) *dataset {
	p := make([]byte, patternLen)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return &dataset{pattern: p, size: size}
}

// fixedSize returns a size function for values of n bytes.
func fixedSize(n int) func(int) int { return func(int) int { return n } }

// spreadSize returns a size function for values of lo to hi bytes, drawn
// from a hash of the key so that it is the same on every run.
func spreadSize(lo, hi int) func(int) int {
	return func(i int) int { return lo + int(mix(uint64(i))%uint64(hi-lo+1)) }
}

// mix is SplitMix64's finalizer: a bijective hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// appendKey appends the name of key i to b.
func appendKey(b []byte, i int) []byte {
	b = append(b, "key"...)
	for d := 1_000_000; d > 1 && i < d; d /= 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(i), 10)
}

// keyLen returns the length of key i's name.
func keyLen(i int) int {
	n := len(strconv.Itoa(i))
	return len("key") + max(n, 7)
}

// value returns version v of key i's value. It aliases the dataset's
// pattern: read-only.
func (d *dataset) value(i int, v int) []byte {
	off := int(mix(uint64(i)<<8|uint64(v&0xff)) % patternPeriod)
	return d.pattern[off : off+d.size(i)]
}

// bytes returns the bytes of keys and values of keys 0..n-1.
func (d *dataset) bytes(n int) int64 {
	var sum int64
	for i := range n {
		sum += int64(keyLen(i) + d.size(i))
	}
	return sum
}
