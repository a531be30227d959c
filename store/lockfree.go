package store

import "github.com/puzpuzpuz/xsync/v3"

// lockFree is the server's store: an xsync.MapOf, whose reads take no
// lock and whose writes lock one bucket.
type lockFree struct {
	m *xsync.MapOf[string, []byte]
	budget
}

// NewLockFree returns a Store over xsync's MapOf (a lock-free hash map
// for reads, with per-bucket locks for writes), presized for
// cfg.Presize entries.
func NewLockFree(cfg Config) Store {
	cfg = cfg.withDefaults()
	return &lockFree{
		m:      xsync.NewMapOf[string, []byte](xsync.WithPresize(cfg.Presize)),
		budget: budget{max: cfg.MaxBytes},
	}
}

// Get looks key up through a string view of its bytes: MapOf.Load only
// compares the lookup key and keeps nothing of it.
func (s *lockFree) Get(key []byte) ([]byte, bool) {
	return s.m.Load(view(key))
}

// Set runs under the bucket lock of key (Compute), so concurrent Sets and
// Deletes of one key see each other's values and the byte count stays
// exact. The key is a real copy: the map keeps it.
func (s *lockFree) Set(key, value []byte) error {
	k := string(key)
	full := false
	s.m.Compute(k, func(old []byte, loaded bool) ([]byte, bool) {
		delta := entryBytes(k, value)
		if loaded {
			delta -= entryBytes(k, old)
		}
		if !s.reserve(delta) {
			full = true
			return old, !loaded // keep the old value, or store nothing
		}
		return value, false
	})
	if full {
		return ErrFull
	}
	return nil
}

// Delete uses a string view too: deleting keeps nothing of the key.
func (s *lockFree) Delete(key []byte) bool {
	old, ok := s.m.LoadAndDelete(view(key))
	if ok {
		s.reserve(-entryBytes(key, old))
	}
	return ok
}

func (s *lockFree) Len() int { return s.m.Size() }
