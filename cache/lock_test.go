package cache

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLock_WriterAndReaders(t *testing.T) {
	for _, status := range []LockStatus{LockDone, LockGiveUp} {
		t.Run(status.String(), func(t *testing.T) {
			l := NewLock(LockOptions{})
			key := Hash{1}
			w, r := l.Acquire(key)
			require.NotNil(t, w)
			require.Nil(t, r)
			w2, r1 := l.Acquire(key)
			require.Nil(t, w2)
			require.NotNil(t, r1)
			_, r2 := l.Acquire(key)
			require.NotNil(t, r2)
			other, _ := l.Acquire(Hash{2})
			require.NotNil(t, other, "keys are independent")
			other.Release(LockDone)

			var wg sync.WaitGroup
			got := make([]LockStatus, 2)
			for i, r := range []*ReadLock{r1, r2} {
				wg.Go(func() { got[i] = r.Wait(t.Context()) })
			}
			w.Release(status)
			w.Release(LockGiveUp) // only the first release counts
			wg.Wait()
			assert.Equal(t, []LockStatus{status, status}, got)
			assert.Equal(t, status, r1.Wait(t.Context()), "waiting after the release returns at once")
			assert.Equal(t, 0, l.Len())

			w3, _ := l.Acquire(key)
			require.NotNil(t, w3, "after release the next request writes")
			w3.Release(LockDone)
		})
	}
}

func TestLock_WaitTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLock(LockOptions{WaitTimeout: time.Second, AgeTimeout: time.Minute})
		w, _ := l.Acquire(Hash{1})
		_, r := l.Acquire(Hash{1})
		start := time.Now()
		assert.Equal(t, LockTimeout, r.Wait(context.Background()))
		assert.Equal(t, time.Second, time.Since(start))
		w.Release(LockDone)
	})
}

func TestLock_AgeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewLock(LockOptions{WaitTimeout: time.Minute, AgeTimeout: time.Second})
		key := Hash{1}
		stuck, _ := l.Acquire(key) // a writer that never finishes in time
		_, r := l.Acquire(key)
		start := time.Now()
		assert.Equal(t, LockAgeTimeout, r.Wait(context.Background()))
		assert.Equal(t, time.Second, time.Since(start))

		// The void lock is replaced by a new writer.
		fresh, _ := l.Acquire(key)
		require.NotNil(t, fresh)
		_, r2 := l.Acquire(key)
		require.NotNil(t, r2)
		// The stuck writer's late release does not end the new lock.
		stuck.Release(LockDone)
		assert.Equal(t, 1, l.Len())
		done := make(chan LockStatus)
		go func() { done <- r2.Wait(context.Background()) }()
		synctest.Wait()
		select {
		case s := <-done:
			t.Fatalf("reader woke with %v", s)
		default:
		}
		fresh.Release(LockGiveUp)
		assert.Equal(t, LockGiveUp, <-done)
	})
}

func TestLock_AgeTimeoutWakesWaitersOnReplace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Waiters of a void lock wake when a new writer replaces it, even
		// if their own timers are further away.
		l := NewLock(LockOptions{WaitTimeout: time.Minute, AgeTimeout: time.Second})
		key := Hash{3}
		stuck, _ := l.Acquire(key)
		_, r := l.Acquire(key)
		time.Sleep(2 * time.Second)
		w, _ := l.Acquire(key)
		require.NotNil(t, w)
		assert.Equal(t, LockAgeTimeout, r.Wait(context.Background()))
		stuck.Release(LockDone)
		w.Release(LockDone)
	})
}

func TestLock_Canceled(t *testing.T) {
	l := NewLock(LockOptions{})
	w, _ := l.Acquire(Hash{1})
	defer w.Release(LockDone)
	_, r := l.Acquire(Hash{1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.Equal(t, LockCanceled, r.Wait(ctx))
}

func TestLock_Dangling(t *testing.T) {
	l := NewLock(LockOptions{WaitTimeout: time.Minute, AgeTimeout: time.Minute})
	key := Hash{9}
	func() {
		w, _ := l.Acquire(key)
		require.NotNil(t, w)
		// w is dropped without Release.
	}()
	_, r := l.Acquire(key)
	require.NotNil(t, r)
	got := make(chan LockStatus, 1)
	go func() { got <- r.Wait(context.Background()) }()
	deadline := time.After(10 * time.Second)
	for {
		runtime.GC()
		select {
		case s := <-got:
			assert.Equal(t, LockDangling, s)
			assert.Equal(t, 0, l.Len())
			return
		case <-deadline:
			t.Fatal("dangling writer still blocks its readers")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func TestLock_StatusString(t *testing.T) {
	assert.Equal(t, "Done", LockDone.String())
	assert.Equal(t, "Canceled", LockCanceled.String())
	assert.Equal(t, "LockStatus(?)", LockStatus(0).String())
}

// TestLock_ConcurrentSafe runs the lookup/lock/fetch loop of a proxy with
// many requests per key: each key is fetched from the "origin" once.
func TestLock_ConcurrentSafe(t *testing.T) {
	l := NewLock(LockOptions{WaitTimeout: time.Minute, AgeTimeout: time.Minute})
	s := NewMemoryStorage(MemoryOptions{})
	meta := storedMeta(t)
	var fetches [8]atomic.Int32
	var wg sync.WaitGroup
	for g := range 64 {
		wg.Go(func() {
			i := g % len(fetches)
			key := Key{Primary: []byte{byte(i)}}
			for {
				if _, hit, ok, _ := s.Lookup(key); ok {
					hit.Close()
					return
				}
				w, r := l.Acquire(key.Hash())
				if w != nil {
					if _, hit, ok, _ := s.Lookup(key); ok { // filled meanwhile
						hit.Close()
						w.Release(LockDone)
						return
					}
					fetches[i].Add(1)
					runtime.Gosched()
					m, err := s.Miss(key, meta)
					if err == nil {
						_, _ = m.Write([]byte("body"))
						err = m.Finish()
					}
					if err != nil {
						t.Error(err)
					}
					w.Release(LockDone)
					return
				}
				if st := r.Wait(t.Context()); st != LockDone {
					t.Errorf("wait: %v", st)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range fetches {
		assert.Equal(t, int32(1), fetches[i].Load(), "key %d", i)
	}
	assert.Equal(t, 0, l.Len())
}
