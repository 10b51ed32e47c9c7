package pool_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/pool"
)

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.Accept()
		ch <- res{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	r := <-ch
	require.NoError(t, r.err)
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

var (
	tlsOnce   sync.Once
	tlsServer *tls.Config
	tlsClient *tls.Config
)

// tlsConfigs returns a server config with a fresh self-signed certificate
// for "pool.test" and a client config trusting it.
func tlsConfigs(t testing.TB) (server, client *tls.Config) {
	tlsOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1),
			Subject:      pkix.Name{CommonName: "pool.test"},
			DNSNames:     []string{"pool.test"},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		require.NoError(t, err)
		cert, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		roots := x509.NewCertPool()
		roots.AddCert(cert)
		tlsServer = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
		tlsClient = &tls.Config{RootCAs: roots, ServerName: "pool.test"}
	})
	return tlsServer, tlsClient
}

// tlsPair returns the two ends of a TLS 1.3 connection over loopback TCP,
// handshake done. The server's session tickets are still unread by the
// client, so the first client Read processes them.
func tlsPair(t testing.TB) (client, server net.Conn) {
	t.Helper()
	rawC, rawS := tcpPair(t)
	sc, cc := tlsConfigs(t)
	srv := tls.Server(rawS, sc)
	cli := tls.Client(rawC, cc)
	errc := make(chan error, 1)
	go func() { errc <- srv.Handshake() }()
	require.NoError(t, cli.Handshake())
	require.NoError(t, <-errc)
	t.Cleanup(func() { cli.Close(); srv.Close() })
	return cli, srv
}

// requireClosedByPool asserts the pool closed our end (SetReadDeadline on
// a closed net.Conn or tls.Conn fails with net.ErrClosed) and, unless the
// peer hung up itself, that the peer reads EOF.
func requireClosedByPool(t *testing.T, client, server net.Conn, peerClosed bool) {
	t.Helper()
	require.ErrorIs(t, client.SetReadDeadline(time.Now()), net.ErrClosed)
	if peerClosed {
		return
	}
	require.NoError(t, server.SetReadDeadline(time.Now().Add(5*time.Second)))
	_, err := io.ReadAll(server)
	if err != nil {
		// A peer that wrote unread data may see a reset instead of EOF.
		var op *net.OpError
		require.ErrorAs(t, err, &op)
		require.False(t, op.Timeout(), "peer saw no close: %v", err)
	}
}

func TestPool_PutWatched(t *testing.T) {
	const idle = 100 * time.Millisecond
	tests := []struct {
		name string
		// peer acts on the server end while the client end is idle; nil
		// acts not at all.
		peer       func(t *testing.T, server net.Conn)
		peerCloses bool
		getHit     bool // the connection is handed out to a Get after peer
		counter    func(pool.Stats) uint64
	}{
		{
			name:    "peer writes a byte",
			peer:    func(t *testing.T, s net.Conn) { _, err := s.Write([]byte{'x'}); require.NoError(t, err) },
			counter: func(s pool.Stats) uint64 { return s.UnexpectedData },
		},
		{
			name:       "peer closes",
			peer:       func(t *testing.T, s net.Conn) { require.NoError(t, s.Close()) },
			peerCloses: true,
			counter:    func(s pool.Stats) uint64 { return s.PeerClosed },
		},
		{
			name:    "idle timeout",
			peer:    func(t *testing.T, s net.Conn) { time.Sleep(2 * idle) },
			counter: func(s pool.Stats) uint64 { return s.Expired },
		},
		{
			name:   "pick-up first",
			getHit: true,
		},
	}
	for _, transport := range []struct {
		name string
		pair func(testing.TB) (net.Conn, net.Conn)
	}{{"tcp", tcpPair}, {"tls", tlsPair}} {
		for _, tt := range tests {
			t.Run(transport.name+"/"+tt.name, func(t *testing.T) {
				client, server := transport.pair(t)
				p := newPool(t, pool.Options[net.Conn]{})
				require.NoError(t, p.PutWatched(42, client, idle))
				require.Equal(t, 1, p.Len())

				if !tt.getHit {
					tt.peer(t, server)
					require.Eventually(t, func() bool { return p.Len() == 0 }, 5*time.Second, time.Millisecond)
					_, ok := p.Get(42)
					require.False(t, ok)
					requireNoPoolGoroutines(t)
					st := p.Stats()
					assert.Equal(t, uint64(1), tt.counter(st))
					assert.Equal(t, uint64(1), st.IdleClosed)
					requireClosedByPool(t, client, server, tt.peerCloses)
					return
				}

				got, ok := p.Get(42)
				require.True(t, ok)
				require.Same(t, client, got)
				requireNoPoolGoroutines(t)
				// Past the idle timeout: the deadline must be gone.
				time.Sleep(2 * idle)
				_, err := server.Write([]byte("hello"))
				require.NoError(t, err)
				buf := make([]byte, 5)
				_, err = io.ReadFull(got, buf)
				require.NoError(t, err)
				assert.Equal(t, "hello", string(buf))
				assert.Equal(t, uint64(1), p.Stats().Hits)
				assert.Zero(t, p.Stats().IdleClosed)
			})
		}
	}
}

// TestPool_PutWatched_Reuse cycles one connection through the pool many
// times, checking each round that the peer's data is intact.
func TestPool_PutWatched_Reuse(t *testing.T) {
	client, server := tcpPair(t)
	p := newPool(t, pool.Options[net.Conn]{Size: 2})
	c := client
	for i := range 50 {
		require.NoError(t, p.PutWatched(1, c, time.Minute))
		var ok bool
		c, ok = p.Get(1)
		require.True(t, ok, "round %d", i)
		msg := []byte{byte(i), 'a', 'b'}
		_, err := server.Write(msg)
		require.NoError(t, err)
		buf := make([]byte, 3)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
		require.Equal(t, msg, buf, "round %d", i)
	}
	requireNoPoolGoroutines(t)
}

func TestPool_PutWatched_EvictAndClose(t *testing.T) {
	var evicted []net.Conn
	p := newPool(t, pool.Options[net.Conn]{
		Size:    2,
		OnEvict: func(_ uint64, c net.Conn) { evicted = append(evicted, c) },
	})
	var clients, servers []net.Conn
	for range 3 {
		c, s := tcpPair(t)
		clients, servers = append(clients, c), append(servers, s)
		require.NoError(t, p.PutWatched(1, c, 0))
	}
	require.Equal(t, []net.Conn{clients[0]}, evicted)
	requireClosedByPool(t, clients[0], servers[0], false)
	require.Equal(t, 2, p.Len())
	require.Eventually(t, func() bool { return poolGoroutines() == 2 }, time.Second, time.Millisecond)

	p.Close()
	requireNoPoolGoroutines(t)
	for i := 1; i < 3; i++ {
		requireClosedByPool(t, clients[i], servers[i], false)
	}
	st := p.Stats()
	assert.Equal(t, uint64(1), st.Evictions)
	assert.Zero(t, st.IdleClosed)
	c, _ := tcpPair(t)
	require.ErrorIs(t, p.PutWatched(1, c, 0), pool.ErrClosed)
	require.ErrorIs(t, c.SetReadDeadline(time.Time{}), net.ErrClosed)
}

// countConn is a net.Conn that counts Closes and detects double hand-outs.
type countConn struct {
	net.Conn
	closes atomic.Int32
	out    atomic.Bool
}

func (c *countConn) Close() error { c.closes.Add(1); return c.Conn.Close() }

// TestPool_PutWatchedConcurrentSafe cycles loopback connections through a
// small pool from several goroutines while their peers now and then write
// a byte or hang up, then closes the pool and checks that no connection was
// handed out twice or while closed, each was closed once, and no watcher
// is left.
func TestPool_PutWatchedConcurrentSafe(t *testing.T) {
	const workers, iters, nconns = 4, 300, 16
	p, err := pool.New(pool.Options[*countConn]{Size: 6})
	require.NoError(t, err)
	conns := make([]*countConn, nconns)
	servers := make([]net.Conn, nconns)
	for i := range conns {
		c, s := tcpPair(t)
		conns[i], servers[i] = &countConn{Conn: c}, s
	}
	var free sync.Mutex // guards unpooled: conns owned by no one
	unpooled := append([]*countConn(nil), conns...)

	stop := make(chan struct{})
	var poison sync.WaitGroup
	poison.Go(func() { // peers misbehave now and then
		rng := mrand.New(mrand.NewPCG(7, 7))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
			s := servers[rng.IntN(nconns)]
			if rng.IntN(8) == 0 {
				s.Close()
			} else {
				s.Write([]byte{'!'})
			}
		}
	})

	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := mrand.New(mrand.NewPCG(uint64(w), 3))
			for i := 0; i < iters || time.Since(start) < 100*time.Millisecond; i++ {
				if rng.IntN(20) == 0 {
					time.Sleep(200 * time.Microsecond)
				}
				key := uint64(rng.IntN(2))
				if c, ok := p.Get(key); ok {
					if !c.out.CompareAndSwap(false, true) {
						t.Errorf("conn handed out twice")
						return
					}
					if c.closes.Load() != 0 {
						t.Errorf("got a closed conn")
						return
					}
					c.out.Store(false)
					_ = p.PutWatched(key, c, time.Duration(rng.IntN(20))*time.Millisecond)
					continue
				}
				free.Lock()
				var c *countConn
				if n := len(unpooled); n > 0 {
					c, unpooled = unpooled[n-1], unpooled[:n-1]
				}
				free.Unlock()
				if c != nil {
					_ = p.PutWatched(key, c, time.Duration(rng.IntN(20))*time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	poison.Wait()
	p.Close()
	requireNoPoolGoroutines(t)
	for i, c := range conns {
		// Each conn was put, so the pool closed it exactly once: by
		// eviction, on peer activity or timeout, or at Close.
		free.Lock()
		neverPut := false
		for _, u := range unpooled {
			neverPut = neverPut || u == c
		}
		free.Unlock()
		if neverPut {
			continue
		}
		assert.Equal(t, int32(1), c.closes.Load(), "conn %d", i)
	}
	t.Logf("stats %+v", p.Stats())
}

// scriptConn is a Watchable whose Read wakes only when its read deadline
// changes, so a test can make data or EOF "arrive" without the watcher
// noticing until a Get stops it: the race between a peer and a pick-up.
type scriptConn struct {
	fakeConn
	mu       sync.Mutex
	pending  error // io.EOF, or errData for one byte of data; nil: nothing
	deadline time.Time
	kick     chan struct{}
	reads    atomic.Int32
	closed   bool
	sets     int // SetReadDeadline calls so far
	failSet  int // > 0: that SetReadDeadline call (1-based) fails
}

var errSetDeadline = errors.New("set deadline failed")

func (c *scriptConn) Close() error {
	c.fakeConn.Close()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.wake()
	return nil
}

func (c *scriptConn) wake() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

var errData = errors.New("data")

func newScriptConn() *scriptConn { return &scriptConn{kick: make(chan struct{}, 1)} }

func (c *scriptConn) Read(b []byte) (int, error) {
	c.reads.Add(1)
	for {
		c.mu.Lock()
		pending, deadline, closed := c.pending, c.deadline, c.closed
		c.pending = nil
		c.mu.Unlock()
		switch {
		case closed:
			return 0, net.ErrClosed
		case pending == errData:
			b[0] = '!'
			return 1, nil
		case pending != nil:
			return 0, pending
		case !deadline.IsZero() && !deadline.After(time.Now()):
			return 0, os.ErrDeadlineExceeded
		}
		<-c.kick
	}
}

func (c *scriptConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.sets++
	if c.sets == c.failSet {
		c.mu.Unlock()
		return errSetDeadline // and the deadline is not set
	}
	c.deadline = t
	c.mu.Unlock()
	c.wake()
	return nil
}

// arrive makes data or EOF available without waking the reader.
func (c *scriptConn) arrive(err error) {
	c.mu.Lock()
	c.pending = err
	c.mu.Unlock()
}

func TestPool_PutWatched_RaceAtPickUp(t *testing.T) {
	tests := []struct {
		name    string
		arrives error
		counter func(pool.Stats) uint64
	}{
		{name: "data", arrives: errData, counter: func(s pool.Stats) uint64 { return s.UnexpectedData }},
		{name: "eof", arrives: io.EOF, counter: func(s pool.Stats) uint64 { return s.PeerClosed }},
		{name: "nothing", arrives: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, pool.Options[*scriptConn]{})
			c := newScriptConn()
			require.NoError(t, p.PutWatched(1, c, time.Hour))
			require.Eventually(t, func() bool { return c.reads.Load() == 1 }, time.Second, time.Millisecond)
			c.arrive(tt.arrives)
			got, ok := p.Get(1)
			requireNoPoolGoroutines(t)
			if tt.arrives == nil {
				require.True(t, ok)
				require.Same(t, c, got)
				require.Zero(t, c.closes.Load())
				c.mu.Lock()
				assert.True(t, c.deadline.IsZero(), "read deadline left set")
				c.mu.Unlock()
				return
			}
			require.False(t, ok, "handed out a connection whose peer acted")
			assert.Equal(t, int32(1), c.closes.Load())
			st := p.Stats()
			assert.Equal(t, uint64(1), tt.counter(st))
			assert.Equal(t, uint64(1), st.Misses)
			assert.Zero(t, st.Hits)
		})
	}
}

// TestPool_PutWatched_DeadlineFails covers connections that refuse a read
// deadline: at Put (an error, the connection closed), when Get stops the
// watcher (Get must not hang: it closes the connection to wake the Read),
// and when Get clears the deadline.
func TestPool_PutWatched_DeadlineFails(t *testing.T) {
	tests := []struct {
		name    string
		failSet int
		putErr  bool
	}{
		{name: "at put", failSet: 1, putErr: true},
		{name: "stopping the watcher", failSet: 2},
		{name: "clearing the deadline", failSet: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPool(t, pool.Options[*scriptConn]{})
			c := newScriptConn()
			c.failSet = tt.failSet
			err := p.PutWatched(1, c, time.Hour)
			if tt.putErr {
				require.ErrorIs(t, err, errSetDeadline)
				require.ErrorContains(t, err, "pool: watch idle connection")
				assert.Equal(t, int32(1), c.closes.Load())
				assert.Equal(t, 0, p.Len())
				return
			}
			require.NoError(t, err)
			_, ok := p.Get(1)
			require.False(t, ok)
			assert.Equal(t, int32(1), c.closes.Load())
			assert.Equal(t, uint64(1), p.Stats().PeerClosed)
			requireNoPoolGoroutines(t)
		})
	}
}
