// Package workload decides what a load generator sends next (a read or a
// write, and of which key) and checks what the server answers against what
// the generator itself wrote.
package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// Dist names how keys are drawn.
type Dist string

// The key distributions.
const (
	Uniform Dist = "uniform" // every key equally likely
	Zipf    Dist = "zipf"    // key i with probability proportional to 1/(i+1)^s
)

// Kind is the type of an operation.
type Kind uint8

// The operation kinds.
const (
	Get   Kind = iota // GET /get/{key}
	Store             // POST /store/{key}
	NumKinds
)

// String returns the operation's name as reports show it.
func (k Kind) String() string {
	switch k {
	case Get:
		return "get"
	case Store:
		return "store"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Config describes a workload. Its zero value is the default workload:
// 80% reads over 10,000 uniformly drawn keys with 100-byte values.
type Config struct {
	// Keys is the number of distinct keys, all written before timing.
	// Default 10,000.
	Keys int
	// ReadRatio is the fraction of operations that are reads, in [0, 1].
	// Default 0.8 (zero means the default; see WriteOnly).
	ReadRatio float64
	// WriteOnly makes every operation a write, the one workload a
	// ReadRatio of zero cannot express.
	WriteOnly bool
	// ValueSize is the size of every value in bytes, at least MinValueSize.
	// Default 100.
	ValueSize int
	// Dist is the key distribution. Default Uniform.
	Dist Dist
	// ZipfS is the exponent s of the Zipf distribution, above 1.
	// Default 1.1.
	ZipfS float64
}

func (c Config) withDefaults() Config {
	if c.Keys == 0 {
		c.Keys = 10_000
	}
	if c.ReadRatio == 0 && !c.WriteOnly {
		c.ReadRatio = 0.8
	}
	if c.ValueSize == 0 {
		c.ValueSize = 100
	}
	if c.Dist == "" {
		c.Dist = Uniform
	}
	if c.ZipfS == 0 {
		c.ZipfS = 1.1
	}
	return c
}

// Validate reports what is wrong with c, after defaults, or nil.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Keys < 1 || c.Keys > MaxKeys {
		errs = append(errs, fmt.Errorf("keys %d out of range 1-%d", c.Keys, MaxKeys))
	}
	if c.ReadRatio < 0 || c.ReadRatio > 1 {
		errs = append(errs, fmt.Errorf("read ratio %v out of range 0-1", c.ReadRatio))
	}
	if c.ValueSize < MinValueSize {
		errs = append(errs, fmt.Errorf("value size %d below the minimum of %d bytes (the key and version it carries)", c.ValueSize, MinValueSize))
	}
	switch c.Dist {
	case Uniform, Zipf:
	default:
		errs = append(errs, fmt.Errorf("unknown key distribution %q: want uniform or zipf", c.Dist))
	}
	if c.ZipfS <= 1 {
		errs = append(errs, fmt.Errorf("zipf exponent %v must be above 1", c.ZipfS))
	}
	return errors.Join(errs...)
}

// Workload is a validated Config together with the ledger of what was
// written. It is shared by all connections; Generators are not.
type Workload struct {
	cfg    Config
	ledger *Ledger
}

// New returns the workload c describes, with an empty ledger.
func New(c Config) (*Workload, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.withDefaults()
	return &Workload{cfg: c, ledger: newLedger(c.Keys)}, nil
}

// Config returns the workload's configuration with defaults filled in.
func (w *Workload) Config() Config { return w.cfg }

// Ledger returns the record of versions written and acknowledged.
func (w *Workload) Ledger() *Ledger { return w.ledger }

// Op is one operation to send.
type Op struct {
	Kind Kind
	Key  int
	// Version is the version a Store writes, or for a Get the lowest
	// version the answer may carry (the latest acknowledged when it was
	// drawn).
	Version uint32
}

// Generator draws operations for one connection or stream. It is not safe
// for concurrent use.
type Generator struct {
	w    *Workload
	rng  *rand.Rand
	zipf *rand.Zipf
}

// Generator returns a generator seeded with seed; generators with
// different seeds draw independent sequences.
func (w *Workload) Generator(seed uint64) *Generator {
	g := &Generator{w: w, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	if w.cfg.Dist == Zipf {
		g.zipf = rand.NewZipf(g.rng, w.cfg.ZipfS, 1, uint64(w.cfg.Keys-1))
	}
	return g
}

// maxRedraws is how many other keys a write tries when the key it drew
// is being written by another connection, before it becomes a read.
const maxRedraws = 4

// Next returns the next operation. A write claims its key in the ledger
// until Done is called with the outcome, so that writes of one key never
// overlap and every read has a well-defined set of acceptable answers;
// a write that finds its key (and maxRedraws others) claimed becomes a
// read of that key.
func (g *Generator) Next() Op {
	key := g.key()
	if g.rng.Float64() < g.w.cfg.ReadRatio {
		return Op{Kind: Get, Key: key, Version: g.w.ledger.Acked(key)}
	}
	for range maxRedraws + 1 {
		if v, ok := g.w.ledger.begin(key); ok {
			return Op{Kind: Store, Key: key, Version: v}
		}
		key = g.key()
	}
	return Op{Kind: Get, Key: key, Version: g.w.ledger.Acked(key)}
}

func (g *Generator) key() int {
	if g.zipf != nil {
		return int(g.zipf.Uint64())
	}
	return g.rng.IntN(g.w.cfg.Keys)
}
