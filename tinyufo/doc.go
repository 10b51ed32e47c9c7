// Package tinyufo is an in-memory cache with S3-FIFO eviction and TinyLFU
// admission, bounded by the total weight of its entries.
//
// It ports TinyUFO, the tinyufo crate of Cloudflare's Pingora. New entries
// enter a small FIFO queue; those read at least twice while there are
// promoted to a main FIFO queue, which gives each entry up to three more
// passes (one per recent use, saturating at 3) before evicting it. A
// count-min sketch of recent Puts, halved periodically, guards admission:
// when making room for a newcomer evicts exactly one entry and that entry is
// more frequent than the newcomer, the entry stays and the newcomer is
// turned away.
//
//	c := tinyufo.New[string, []byte](1000, 1000) // weight limit, expected entries
//	c.Put("k", []byte("v"), 1)
//	if v, ok := c.Get("k"); ok {
//		use(v)
//	}
//	c.Remove("k")
//
// # Differences from Pingora
//
// Keys are stored, not only their 64-bit hashes, so two keys never share an
// entry and Evicted reports real keys. A weight of 0 counts as 1 (Pingora
// panics), and an entry heavier than the whole limit is returned instead of
// being stored over the limit. The admission sketch is sized for
// max(4×estimatedSize, 1,024) keys, has at most 4 rows and halves its
// counters every 32 Puts per key it is sized for (Pingora: estimatedSize
// keys, ceil(log2 n) rows, halved every 8×estimatedSize Puts); the small
// queue holds 5% of the weight plus one (Pingora:
// 10% plus one). These choices raise the hit ratio on zipf workloads; see
// the benchmarks module.
//
// # Concurrency
//
// A Cache is safe for concurrent use. Get takes no lock: it reads an
// open-addressing table of atomic pointers and bumps the entry's use counter
// with one compare-and-swap (none once it has saturated), so reads scale
// with cores. Put, ForcePut and Remove serialize on one mutex, which guards
// the queues, the weights and the sketch; each runs in amortized constant
// time. Cached values are returned as they are: a V that is a pointer, slice
// or map is shared between callers.
//
// # Defaults
//
// weightLimit and estimatedSize below 1 are taken as 1. The small queue's
// share is weightLimit/20+1; the use counter saturates at 3.
package tinyufo
