package cache

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func storedMeta(t testing.TB, kv ...string) *Meta {
	t.Helper()
	meta, reason := ResponseCacheable(request(t, "GET"), response(t, 200, append([]string{"Cache-Control", "max-age=60"}, kv...)...), t0, Defaults{})
	require.Equal(t, OK, reason)
	return meta
}

func put(t testing.TB, s Storage, key Key, meta *Meta, body []byte) {
	t.Helper()
	w, err := s.Miss(key, meta)
	require.NoError(t, err)
	for chunk := range slices.Chunk(body, 1000) {
		_, err := w.Write(chunk)
		require.NoError(t, err)
	}
	require.NoError(t, w.Finish())
}

func read(t testing.TB, s Storage, key Key) (*Meta, []byte, bool) {
	t.Helper()
	meta, hit, ok, err := s.Lookup(key)
	require.NoError(t, err)
	if !ok {
		return nil, nil, false
	}
	defer hit.Close()
	body, err := io.ReadAll(hit)
	require.NoError(t, err)
	require.Equal(t, int64(len(body)), hit.Size())
	return meta, body, true
}

func TestMemoryStorage_MissLookupPurge(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{})
	key := Key{Primary: []byte("/a")}
	_, _, ok := read(t, s, key)
	require.False(t, ok)

	meta := storedMeta(t)
	body := bytes.Repeat([]byte("x"), 2500)
	w, err := s.Miss(key, meta)
	require.NoError(t, err)
	_, err = w.Write(body[:100])
	require.NoError(t, err)
	_, _, ok = read(t, s, key)
	assert.False(t, ok, "not visible before Finish")
	_, err = w.Write(body[100:])
	require.NoError(t, err)
	require.NoError(t, w.Finish())
	w.Abort() // no effect after Finish
	_, err = w.Write([]byte("more"))
	assert.ErrorIs(t, err, ErrMissFinished)
	assert.ErrorIs(t, w.Finish(), ErrMissFinished)

	got, gotBody, ok := read(t, s, key)
	require.True(t, ok)
	assert.Same(t, meta, got)
	assert.Equal(t, body, gotBody)
	assert.Equal(t, 1, s.Len())
	assert.Positive(t, s.Size())

	// Two readers do not share a position.
	_, h1, _, _ := s.Lookup(key)
	_, h2, _, _ := s.Lookup(key)
	b1, _ := io.ReadAll(h1)
	b2, _ := io.ReadAll(h2)
	assert.Equal(t, b1, b2)

	// Another variance is another object.
	vkey := key
	vkey.Variance = Hash{1}
	_, _, ok = read(t, s, vkey)
	assert.False(t, ok)

	purged, err := s.Purge(key)
	require.NoError(t, err)
	assert.True(t, purged)
	purged, _ = s.Purge(key)
	assert.False(t, purged)
	_, _, ok = read(t, s, key)
	assert.False(t, ok)
}

func TestMemoryStorage_Abort(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{})
	key := Key{Primary: []byte("/a")}
	w, err := s.Miss(key, storedMeta(t))
	require.NoError(t, err)
	_, _ = w.Write([]byte("partial"))
	w.Abort()
	w.Abort()
	assert.ErrorIs(t, w.Finish(), ErrMissFinished)
	_, _, ok := read(t, s, key)
	assert.False(t, ok)
}

func TestMemoryStorage_EmptyBody(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{})
	key := Key{Primary: []byte("/empty")}
	put(t, s, key, storedMeta(t, "Content-Length", "0"), nil)
	_, body, ok := read(t, s, key)
	require.True(t, ok)
	assert.Empty(t, body)
}

func TestMemoryStorage_TooLarge(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{MaxObjectSize: 4096})
	key := Key{Primary: []byte("/big")}
	t.Run("by content-length", func(t *testing.T) {
		_, err := s.Miss(key, storedMeta(t, "Content-Length", "5000"))
		assert.ErrorIs(t, err, ErrResponseTooLarge)
	})
	t.Run("while writing", func(t *testing.T) {
		w, err := s.Miss(key, storedMeta(t))
		require.NoError(t, err)
		_, err = w.Write(make([]byte, 3000))
		require.NoError(t, err)
		_, err = w.Write(make([]byte, 3000))
		assert.ErrorIs(t, err, ErrResponseTooLarge)
		_, err = w.Write(make([]byte, 1))
		assert.ErrorIs(t, err, ErrMissFinished, "aborted")
		_, _, ok := read(t, s, key)
		assert.False(t, ok)
	})
	t.Run("limit capped", func(t *testing.T) {
		s := NewMemoryStorage(MemoryOptions{MaxSize: 1 << 40, MaxObjectSize: 1 << 40})
		_, err := s.Miss(key, storedMeta(t, "Content-Length", strconv.Itoa(MaxObjectSizeLimit)))
		assert.ErrorIs(t, err, ErrResponseTooLarge)
		_, err = s.Miss(key, storedMeta(t, "Content-Length", strconv.Itoa(MaxObjectSizeLimit-1000)))
		assert.NoError(t, err)
	})
}

func TestMemoryStorage_BoundedBytes(t *testing.T) {
	const maxSize = 256 << 10
	s := NewMemoryStorage(MemoryOptions{MaxSize: maxSize})
	body := make([]byte, 10<<10)
	for i := range 200 {
		put(t, s, Key{Primary: fmt.Appendf(nil, "/%d", i)}, storedMeta(t), body)
		require.LessOrEqual(t, s.Size(), int64(maxSize))
	}
	assert.Less(t, s.Len(), 200, "evicted")
	assert.Greater(t, s.Len(), 10)
	// The last object written is always admitted (ForcePut).
	_, _, ok := read(t, s, Key{Primary: []byte("/199")})
	assert.True(t, ok)
}

func TestMemoryStorage_UpdateMeta(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{MaxObjectSize: 4096})
	key := Key{Primary: []byte("/a")}
	ok, err := s.UpdateMeta(key, storedMeta(t))
	require.NoError(t, err)
	assert.False(t, ok)

	put(t, s, key, storedMeta(t), []byte("body"))
	newMeta := storedMeta(t, "X-New", "1")
	ok, err = s.UpdateMeta(key, newMeta)
	require.NoError(t, err)
	assert.True(t, ok)
	got, body, _ := read(t, s, key)
	assert.Same(t, newMeta, got)
	assert.Equal(t, "body", string(body))

	huge := storedMeta(t, "X-Huge", string(bytes.Repeat([]byte("h"), 5000)))
	ok, err = s.UpdateMeta(key, huge)
	assert.True(t, ok)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	got, _, _ = read(t, s, key)
	assert.Same(t, newMeta, got, "unchanged")
}

func TestMemoryStorage_ConcurrentSafe(t *testing.T) {
	s := NewMemoryStorage(MemoryOptions{MaxSize: 512 << 10})
	meta := storedMeta(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				key := Key{Primary: fmt.Appendf(nil, "/%d", (i*7+g)%50)}
				body := bytes.Repeat([]byte{byte(i)}, 100+i*10)
				switch i % 4 {
				case 0, 1:
					w, err := s.Miss(key, meta)
					if err != nil {
						t.Error(err)
						return
					}
					_, _ = w.Write(body[:len(body)/2])
					_, _ = w.Write(body[len(body)/2:])
					if err := w.Finish(); err != nil {
						t.Error(err)
					}
				case 2:
					_, hit, ok, _ := s.Lookup(key)
					if ok {
						b, _ := io.ReadAll(hit)
						// Never a partial body: all bytes equal, and the
						// length is one a writer wrote.
						if len(b) < 100 || int64(len(b)) != hit.Size() || bytes.Count(b, b[:1]) != len(b) {
							t.Errorf("torn body of %d bytes", len(b))
						}
						hit.Close()
					}
				case 3:
					_, _ = s.Purge(key)
				}
			}
		})
	}
	wg.Wait()
	assert.LessOrEqual(t, s.Size(), int64(512<<10))
}
