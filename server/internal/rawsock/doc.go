// Package rawsock reads and writes TCP and Unix sockets with raw system
// calls (syscall.RawSyscall inside syscall.RawConn's callbacks) instead of
// the scheduler-aware ones net.Conn makes.
//
// Go keeps sockets non-blocking and parks a goroutine in its netpoller
// when a read or write would block, so these calls never block: they
// return data, EAGAIN (the goroutine then waits in the netpoller as
// usual, under the connection's deadlines) or an error. Telling the
// scheduler about each call costs an entersyscall/exitsyscall pair, and
// worse, the runtime's monitor hands the P of a call still running after
// about 20 µs (a 64 KiB write on loopback, which runs the receiver's TCP
// processing too) to another OS thread: with GOMAXPROCS 1 the two threads
// then take turns on the CPU, several context switches per large response.
// A raw call keeps its P; at worst other goroutines of that P wait for the
// call, as they would for any code running that long.
//
// Only Linux is covered, and not race-detector builds (see race.go: the
// detector would lose the ordering socket I/O gives it); elsewhere Wrap
// returns nil and callers use the connection as it is. Deadlines, Close and the rest stay the socket's
// own; errors are shaped like net.Conn's (*net.OpError, io.EOF).
package rawsock
