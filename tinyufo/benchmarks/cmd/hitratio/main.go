// Command hitratio prints tinyufo's hit ratio beside other Go caches on
// Pingora's workload: 10,000 keys, 5,000,000 zipf samples per exponent,
// get then put on a miss.
package main

import (
	"flag"
	"os"

	"github.com/pingora-go/pingora/tinyufo/benchmarks"
)

func main() {
	items := flag.Int("items", 10_000, "number of distinct keys")
	samples := flag.Int("samples", 5_000_000, "zipf samples per exponent")
	flag.Parse()
	benchmarks.Table(os.Stdout, *items, *samples, benchmarks.Policies)
}
