package cache

import (
	"bytes"
	"io"

	"github.com/pingora-go/pingora/tinyufo"
)

// Memory storage defaults.
const (
	DefaultMemorySize    = 64 << 20 // 64 MiB
	DefaultMaxObjectSize = 8 << 20  // 8 MiB
	// MaxObjectSizeLimit is the largest MaxObjectSize: 65535 weight units
	// of 1 KiB (tinyufo weights are uint16) minus the per-object overhead.
	MaxObjectSizeLimit = 65535*weightUnit - objectOverhead
)

const (
	// weightUnit is the size that one unit of tinyufo weight stands for.
	weightUnit = 1024
	// objectOverhead approximates an object's memory besides its header
	// and body: the Meta, the tinyufo entry and the table slot.
	objectOverhead = 256
)

// MemoryOptions configures a MemoryStorage. The zero value is ready to
// use.
type MemoryOptions struct {
	// MaxSize bounds the total size of stored objects, counting each
	// object's header (in wire form), body and a fixed overhead, rounded
	// up to whole KiB. If zero, DefaultMemorySize.
	MaxSize int64
	// MaxObjectSize refuses larger objects (header plus body). If zero,
	// DefaultMaxObjectSize; values above MaxObjectSizeLimit or MaxSize are
	// lowered to them.
	MaxObjectSize int64
	// EstimatedObjects sizes the index. If zero, MaxSize / 16 KiB.
	EstimatedObjects int
}

// MemoryStorage is an in-memory Storage, bounded in bytes, that evicts
// with TinyUFO (S3-FIFO with TinyLFU admission). Weights are in KiB
// units, rounded up, so the byte bound holds exactly. It is safe for
// concurrent use; a lookup takes no lock.
//
// Writes become visible only when complete (Finish): a reader never sees
// a partial body. A finished object is always admitted (tinyufo
// ForcePut), evicting others, because requests waiting on the cache lock
// retry the lookup right after it.
type MemoryStorage struct {
	objects   *tinyufo.Cache[Hash, *object]
	maxObject int64
}

// object is one stored response. It never changes once stored.
type object struct {
	meta *Meta
	body []byte
}

var _ Storage = (*MemoryStorage)(nil)

// NewMemoryStorage returns an empty MemoryStorage.
func NewMemoryStorage(opts MemoryOptions) *MemoryStorage {
	size := opts.MaxSize
	if size <= 0 {
		size = DefaultMemorySize
	}
	maxObject := opts.MaxObjectSize
	if maxObject <= 0 {
		maxObject = DefaultMaxObjectSize
	}
	maxObject = min(maxObject, MaxObjectSizeLimit, size)
	est := opts.EstimatedObjects
	if est <= 0 {
		est = int(max(size/(16<<10), 16))
	}
	return &MemoryStorage{
		objects:   tinyufo.New[Hash, *object](int(max(size/weightUnit, 1)), est),
		maxObject: maxObject,
	}
}

// weight returns the tinyufo weight of an object of n bytes and whether
// it fits in a uint16.
func weight(n int64) (uint16, bool) {
	w := (n + objectOverhead + weightUnit - 1) / weightUnit
	return uint16(w), w <= 65535
}

// Lookup returns the object stored under key.
func (s *MemoryStorage) Lookup(key Key) (*Meta, HitHandler, bool, error) {
	o, ok := s.objects.Get(key.Hash())
	if !ok {
		return nil, nil, false, nil
	}
	h := new(memoryHit)
	h.Reset(o.body)
	return o.meta, h, true, nil
}

// Miss starts writing the object for key. It returns ErrResponseTooLarge
// if meta's header and Content-Length already exceed the maximum object
// size.
func (s *MemoryStorage) Miss(key Key, meta *Meta) (MissHandler, error) {
	headerSize := int64(meta.header.WireLen())
	expect := int64(0)
	if v := meta.header.Get("Content-Length"); v != "" {
		if n, ok := parseDelta(v); ok {
			expect = int64(n)
		}
	}
	if headerSize+expect > s.maxObject {
		return nil, ErrResponseTooLarge
	}
	m := &memoryMiss{s: s, key: key.Hash(), meta: meta, headerSize: headerSize}
	if expect > 0 {
		m.body = make([]byte, 0, min(expect, 1<<20)) // a lying Content-Length costs little
	}
	return m, nil
}

// Purge removes the object under key.
func (s *MemoryStorage) Purge(key Key) (bool, error) {
	_, ok := s.objects.Remove(key.Hash())
	return ok, nil
}

// UpdateMeta replaces the meta of the object under key, keeping its body.
// It returns ErrResponseTooLarge, leaving the object as it was, if the new
// header makes it too large.
func (s *MemoryStorage) UpdateMeta(key Key, meta *Meta) (bool, error) {
	h := key.Hash()
	o, ok := s.objects.Get(h)
	if !ok {
		return false, nil
	}
	n := &object{meta: meta, body: o.body}
	size := int64(meta.header.WireLen()) + int64(len(o.body))
	if size > s.maxObject {
		return true, ErrResponseTooLarge
	}
	w, _ := weight(size)
	s.objects.ForcePut(h, n, w)
	return true, nil
}

// Len returns the number of stored objects.
func (s *MemoryStorage) Len() int { return s.objects.Len() }

// Size returns the total weight of stored objects in bytes (a multiple of
// 1 KiB, never above MaxSize).
func (s *MemoryStorage) Size() int64 { return int64(s.objects.Weight()) * weightUnit }

// memoryHit reads a stored body; the body is shared and never modified.
// bytes.Reader's Size is the body length, and it implements io.ReaderAt
// and io.Seeker for serving ranges.
type memoryHit struct {
	bytes.Reader
}

func (h *memoryHit) Close() error { return nil }

var (
	_ io.ReaderAt = (*memoryHit)(nil)
	_ io.Seeker   = (*memoryHit)(nil)
)

// memoryMiss buffers a body until Finish.
type memoryMiss struct {
	s          *MemoryStorage
	key        Hash
	meta       *Meta
	headerSize int64
	body       []byte
	done       bool
}

func (m *memoryMiss) Write(p []byte) (int, error) {
	if m.done {
		return 0, ErrMissFinished
	}
	if m.headerSize+int64(len(m.body))+int64(len(p)) > m.s.maxObject {
		m.Abort()
		return 0, ErrResponseTooLarge
	}
	m.body = append(m.body, p...)
	return len(p), nil
}

func (m *memoryMiss) Finish() error {
	if m.done {
		return ErrMissFinished
	}
	m.done = true
	w, ok := weight(m.headerSize + int64(len(m.body)))
	if !ok {
		return ErrResponseTooLarge // unreachable: Write enforces maxObject
	}
	// Drop spare capacity: it would be held, unaccounted, for as long as
	// the object lives.
	body := m.body
	if cap(body)-len(body) > len(body)/8 {
		body = bytes.Clone(body)
	}
	m.body = nil
	m.s.objects.ForcePut(m.key, &object{meta: m.meta, body: body}, w)
	return nil
}

func (m *memoryMiss) Abort() {
	m.done = true
	m.body = nil
}
