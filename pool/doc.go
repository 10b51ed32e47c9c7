// Package pool is a keyed pool of idle upstream connections: a per-key slot
// plus one LRU bounding the total number of idle connections, an idle
// timeout per Put, and idle connections watched so that one whose peer sends
// data or hangs up is dropped at once and never handed out.
//
// It ports pingora-pool (ConnectionPool) from Cloudflare's Pingora.
//
// # Usage
//
// A connector keys connections by the peer's reuse hash, takes an idle one
// before dialing, and gives it back when an exchange ended cleanly:
//
//	p, err := pool.New(pool.Options[net.Conn]{}) // 128 idle connections in all
//	…
//	c, ok := p.Get(key) // key: the peer's reuse hash
//	if !ok {
//		c, err = net.Dial("tcp", addr)
//	}
//	// … one request and response on c; if both ended cleanly:
//	err = p.PutWatched(key, c, 60*time.Second)
//
// # Three ways to put
//
//   - Put holds a connection with only its idle timeout. It is the hit path:
//     no goroutine, no allocation once warm.
//   - PutWatched is for connections whose reads nobody owns while idle, such
//     as HTTP/1: a watcher goroutine blocks in a 1-byte Read under a read
//     deadline of the idle timeout. Data, EOF, an error or the deadline
//     removes and closes the connection (data on an idle HTTP/1 connection
//     is a protocol error, counted in Stats.UnexpectedData). Get stops the
//     watcher by setting a read deadline in the past, waits for it to end,
//     skips the connection if the Read returned anything but that timeout,
//     and clears the deadline: a connection is handed out with no byte
//     consumed and no goroutine left behind. Once warm, a PutWatched and Get
//     round trip allocates only the error the stopped Read returns (one
//     *net.OpError for a net.Conn): entries, their watcher closure and read
//     buffer are recycled.
//   - PutWithDone is for connections whose reads are owned elsewhere, such
//     as a shared HTTP/2 connection read by its driver: the pool never reads
//     it and drops it when the idle timeout passes or the driver closes the
//     done channel.
//
// All three share the per-key slot and the LRU, so a connector can keep
// HTTP/1 connections and idle HTTP/2 connections of one peer in one pool
// (or in two pools, one per connection type). Every Put transfers ownership:
// the pool either returns the connection from Get or closes it.
//
// # Defaults
//
// Options.Size zero means DefaultSize (128), Pingora's default
// upstream_keepalive_pool_size. Options.OnEvict nil means evictions are only
// counted. An idle timeout <= 0 means the connection never expires; it still
// leaves on eviction, on peer activity (PutWatched), on done (PutWithDone),
// Drain and Close. To disable pooling for a peer (Pingora's idle_timeout 0),
// do not Put its connections.
//
// # Differences from Pingora
//
//   - One global LRU of Size connections. Pingora keeps one LRU per thread,
//     each of capacity size, so its real bound is size × threads and a Get
//     only forgets the connection in the calling thread's LRU. Here Size is
//     the exact bound, never exceeded.
//   - The per-key slot is a doubly linked list under the pool's mutex, not a
//     lock-free queue of 16 plus a locked overflow map: the global LRU needs
//     that mutex on every Put and Get anyway, so a second structure would add
//     cost, and the list makes removal of any entry O(1) (Pingora's is O(16)
//     on the hot queue). The critical section is a map lookup and a few
//     pointer moves.
//   - Get returns the most recently put connection of the key (LIFO), so
//     surplus connections age out through their idle timeout and the LRU.
//     Pingora's order is unspecified.
//   - Watching is built in (PutWatched, PutWithDone) rather than a future the
//     caller spawns, and Get waits for the watcher to finish before handing
//     the connection out. That wait also does the job of Pingora connector's
//     non-blocking 1-byte read test when a connection is taken: a byte or
//     EOF already there ends the watcher's Read, and Get skips the
//     connection.
//   - Close and Drain shut the whole pool down, closing every idle connection
//     and waiting for every watcher goroutine.
//
// # Concurrency
//
// All methods of Pool are safe for concurrent use. Put, Get and Stats hold
// one mutex for a few pointer operations and never block on I/O, except that
// a Put evicting a connection closes it, and a Get of a PutWatched
// connection waits for its watcher goroutine (microseconds). OnEvict runs
// without the mutex held. Close waits for every goroutine the pool started.
package pool
