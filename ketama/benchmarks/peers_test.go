package benchmarks

import (
	"strconv"
	"testing"
)

// TestPeersCoverEveryServer checks the comparison is fair: both rings
// hold every server and send keys to each of them.
func TestPeersCoverEveryServer(t *testing.T) {
	for _, n := range sizes {
		addrs := servers(n)
		k, g := newKetama(t, addrs), newGroupcache(addrs)
		if k.Servers() != n {
			t.Fatalf("n=%d: ketama has %d servers", n, k.Servers())
		}
		hitK, hitG := map[string]bool{}, map[string]bool{}
		for i := range 200 * n {
			key := "/cover/" + strconv.Itoa(i)
			a, _ := k.Node([]byte(key))
			hitK[a.String()] = true
			hitG[g.Get(key)] = true
		}
		if len(hitK) != n || len(hitG) != n {
			t.Fatalf("n=%d: ketama reached %d servers, groupcache %d", n, len(hitK), len(hitG))
		}
	}
}
