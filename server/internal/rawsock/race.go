//go:build race

package rawsock

// raceEnabled turns Wrap off under the race detector. internal/poll gives
// the detector a happens-before edge from every socket write to every
// later read (its ioSync), so what a goroutine did before writing is
// ordered before what the reader does next, even across processes' worth
// of code such as a test's HTTP client. syscall.RawConn's callbacks have no
// such edge and a package outside the standard library cannot make one on
// internal/poll's variable: with raw calls, a hook that sets state before
// its response is sent and a client that checks it after reading would be
// reported as a race. Race builds therefore use net.Conn's own calls; the
// raw path is tested without -race (ci.extra) and by this package's tests,
// which switch it on (ForceForTest).
const raceEnabled = true
