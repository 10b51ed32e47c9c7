package tinyufo_test

import (
	"fmt"

	"github.com/pingora-go/pingora/tinyufo"
)

func ExampleCache() {
	c := tinyufo.New[string, int](100, 100)
	c.Put("answer", 42, 1)
	v, ok := c.Get("answer")
	fmt.Println(v, ok)
	_, ok = c.Get("question")
	fmt.Println(ok)
	v, ok = c.Remove("answer")
	fmt.Println(v, ok, c.Len())
	// Output:
	// 42 true
	// false
	// 42 true 0
}

func ExampleCache_Put() {
	// A weight limit of 3: each Put reports what left the cache.
	c := tinyufo.New[string, string](3, 3)
	c.Put("a", "alpha", 2)
	c.Put("b", "beta", 1)
	for _, e := range c.Put("c", "gamma", 2) {
		fmt.Printf("evicted %s=%s (weight %d)\n", e.Key, e.Value, e.Weight)
	}
	fmt.Println("weight", c.Weight())
	// Output:
	// evicted a=alpha (weight 2)
	// weight 3
}

func ExampleCache_ForcePut() {
	c := tinyufo.New[int, string](1, 1)
	c.Put(1, "popular", 1)
	c.Put(1, "popular", 1) // counted twice by the admission sketch
	// Put would turn the newcomer away; ForcePut evicts the incumbent.
	fmt.Println(c.Put(2, "new", 1)[0].Value)
	fmt.Println(c.ForcePut(2, "new", 1)[0].Value)
	// Output:
	// new
	// popular
}
