package memcache

// WaitRefreshes waits for the background refreshes started by
// GetStaleWhileUpdate.
func (c *RTCache[K, V]) WaitRefreshes() { c.refreshes.Wait() }

// Locks returns the number of lookups in flight.
func (c *RTCache[K, V]) Locks() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.locks)
}
