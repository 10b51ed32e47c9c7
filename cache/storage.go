package cache

import (
	"errors"
	"io"
)

// ErrResponseTooLarge is returned by MissHandler.Write, Finish and
// Storage.Miss when an object exceeds the storage's maximum object size.
// Callers stop caching the response and record ResponseTooLarge (or
// PredictedResponseTooLarge when Miss refused it from its Content-Length).
var ErrResponseTooLarge = errors.New("cache: response too large")

// ErrMissFinished is returned by a MissHandler used after Finish or Abort.
var ErrMissFinished = errors.New("cache: miss handler already finished")

// Storage stores responses by key (Pingora's Storage trait). Objects are
// indexed by Key.Hash(), the combined hash. Implementations are safe for
// concurrent use.
type Storage interface {
	// Lookup returns the object stored under key. found is false, with no
	// error, on a miss. The HitHandler must be closed.
	Lookup(key Key) (meta *Meta, hit HitHandler, found bool, err error)
	// Miss starts writing the object for key, described by meta. The
	// object becomes visible to Lookup only when the handler's Finish
	// succeeds.
	Miss(key Key, meta *Meta) (MissHandler, error)
	// Purge removes the object under key and reports whether there was
	// one.
	Purge(key Key) (bool, error)
	// UpdateMeta replaces the meta of the object under key (after a
	// revalidation) and reports whether there was one.
	UpdateMeta(key Key, meta *Meta) (bool, error)
}

// HitHandler reads a stored body.
//
// A HitHandler may also implement io.ReaderAt, reading the body at an
// offset without moving the Read position, and io.Seeker: serving ranges
// (RangeResponse.Body) then skips to each range instead of reading what
// comes before it. MemoryStorage's HitHandler implements both.
type HitHandler interface {
	io.ReadCloser
	// Size returns the body length in bytes.
	Size() int64
}

// MissHandler writes a body into storage as it arrives from the origin.
type MissHandler interface {
	// Write appends a body chunk. It returns ErrResponseTooLarge, and
	// aborts the write, once the object exceeds the storage's limit.
	Write(p []byte) (int, error)
	// Finish completes the object and makes it visible.
	Finish() error
	// Abort discards what was written. It is safe to call after Finish
	// (it then does nothing) and more than once.
	Abort()
}
