package timeout

import (
	"bytes"
	"fmt"
	"runtime"
)

// TickerRunning reports whether m's background goroutine exists: it has
// been started and not yet decided to stop, or it shows among all
// goroutines' stacks.
func TickerRunning(m *Manager) bool {
	if m.running.Load() {
		return true
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Contains(buf, fmt.Appendf(nil, "timeout.(*Manager).run(%p", m))
}

// Pending returns the number of m's buckets not yet fired or dropped.
func Pending(m *Manager) int64 { return m.pending.Load() }

// TickOf exposes the rounding of a deadline (nanoseconds since a Manager's
// start) to its bucket.
var TickOf = tickOf
