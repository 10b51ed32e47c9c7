package benchmarks

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/Yiling-J/theine-go"
	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"

	"github.com/pingora-go/pingora/tinyufo"
)

// Policy is a cache under test: Get then Set on a miss.
type Policy struct {
	Name string
	New  func(size int) (get func(uint64) bool, set func(uint64), done func())
}

// Policies are the caches the hit-ratio table compares, ours first.
var Policies = []Policy{
	{"tinyufo", func(size int) (func(uint64) bool, func(uint64), func()) {
		c := tinyufo.New[uint64, struct{}](size, size)
		return func(k uint64) bool { _, ok := c.Get(k); return ok },
			func(k uint64) { c.Put(k, struct{}{}, 1) }, func() {}
	}},
	{"lru", func(size int) (func(uint64) bool, func(uint64), func()) {
		c, _ := lru.New[uint64, struct{}](size)
		return func(k uint64) bool { _, ok := c.Get(k); return ok },
			func(k uint64) { c.Add(k, struct{}{}) }, func() {}
	}},
	{"otter", func(size int) (func(uint64) bool, func(uint64), func()) {
		c := otter.Must(&otter.Options[uint64, struct{}]{MaximumSize: size, Executor: func(fn func()) { fn() }})
		return func(k uint64) bool { _, ok := c.GetIfPresent(k); return ok },
			func(k uint64) { c.Set(k, struct{}{}) }, func() { c.StopAllGoroutines() }
	}},
	// otter's default Executor runs eviction on another goroutine, so the
	// cache briefly holds more than MaximumSize entries; "otter" above runs
	// it inline and so stays within its size, as tinyufo and LRU do.
	{"otter-async", func(size int) (func(uint64) bool, func(uint64), func()) {
		c := otter.Must(&otter.Options[uint64, struct{}]{MaximumSize: size})
		return func(k uint64) bool { _, ok := c.GetIfPresent(k); return ok },
			func(k uint64) { c.Set(k, struct{}{}) }, func() { c.StopAllGoroutines() }
	}},
	{"ristretto", func(size int) (func(uint64) bool, func(uint64), func()) {
		c, err := ristretto.NewCache(&ristretto.Config[uint64, struct{}]{
			NumCounters: int64(10 * size), MaxCost: int64(size), BufferItems: 64,
			IgnoreInternalCost: true,
		})
		if err != nil {
			panic(err)
		}
		return func(k uint64) bool { _, ok := c.Get(k); return ok },
			func(k uint64) { c.Set(k, struct{}{}, 1) }, c.Close
	}},
	{"theine", func(size int) (func(uint64) bool, func(uint64), func()) {
		c, err := theine.NewBuilder[uint64, struct{}](int64(size)).Build()
		if err != nil {
			panic(err)
		}
		return func(k uint64) bool { _, ok := c.Get(k); return ok },
			func(k uint64) { c.Set(k, struct{}{}, 1) }, c.Close
	}},
}

// HitRatio replays keys through a cache of the given size, getting each key
// and setting it on a miss, and returns the fraction of hits.
func HitRatio(p Policy, size int, keys []uint64) float64 {
	get, set, done := p.New(size)
	defer done()
	hits := 0
	for _, k := range keys {
		if get(k) {
			hits++
		} else {
			set(k)
		}
	}
	return float64(hits) / float64(len(keys))
}

// Exponents and Sizes are the zipf exponents and cache sizes (fractions of
// the key space) of Pingora's hit-ratio table.
var (
	Exponents = []float64{0.9, 1.0, 1.05, 1.1, 1.5}
	Sizes     = []float64{0.005, 0.01, 0.05, 0.1, 0.25}
)

// Table prints the hit ratio of every policy for every exponent and size,
// with items keys and samples draws per cell.
func Table(w io.Writer, items, samples int, policies []Policy) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "zipf\tsize\t")
	for _, p := range policies {
		fmt.Fprintf(tw, "%s\t", p.Name)
	}
	fmt.Fprintln(tw)
	for _, s := range Exponents {
		keys := NewZipf(items, s, 42).Keys(samples)
		for _, f := range Sizes {
			size := max(int(f*float64(items)), 1)
			fmt.Fprintf(tw, "%.2f\t%.3f\t", s, f)
			for _, p := range policies {
				fmt.Fprintf(tw, "%.2f%%\t", 100*HitRatio(p, size, keys))
			}
			fmt.Fprintln(tw)
			tw.Flush()
		}
	}
	tw.Flush()
}
