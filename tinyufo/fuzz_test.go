package tinyufo_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/pingora-go/pingora/tinyufo"
)

// FuzzCache decodes ops from bytes, three per op (kind, key, weight), and
// checks the cache against a map, as TestCache_Model does.
func FuzzCache(f *testing.F) {
	f.Add(uint8(5), []byte{1, 1, 1, 1, 2, 2, 1, 3, 2, 1, 4, 3, 0, 1, 0, 3, 2, 0})
	f.Add(uint8(1), []byte{1, 0, 9, 2, 0, 1, 1, 0, 1, 0, 0, 0})
	f.Add(uint8(20), []byte{3, 1, 1, 3, 1, 1, 1, 2, 1, 0, 2, 0, 4, 2, 0})
	f.Fuzz(func(t *testing.T, limit uint8, ops []byte) {
		c := tinyufo.New[uint8, int](int(limit), int(limit))
		lim := max(int(limit), 1)
		model := map[uint8]int{}
		for i := 0; i+2 < len(ops); i += 3 {
			k, w := ops[i+1]%32, uint16(ops[i+2]%8)
			switch ops[i] % 5 {
			case 0:
				v, ok := c.Get(k)
				mv, mok := model[k]
				require.Equal(t, mok, ok, "get %d", k)
				require.Equal(t, mv, v)
			case 1, 2, 3:
				var ev []tinyufo.Evicted[uint8, int]
				if ops[i]%5 == 3 {
					ev = c.ForcePut(k, i, w)
				} else {
					ev = c.Put(k, i, w)
				}
				model[k] = i
				for _, e := range ev {
					if mv, ok := model[e.Key]; ok && mv == e.Value {
						delete(model, e.Key)
					}
				}
			case 4:
				v, ok := c.Remove(k)
				mv, mok := model[k]
				require.Equal(t, mok, ok, "remove %d", k)
				require.Equal(t, mv, v)
				delete(model, k)
			}
			require.LessOrEqual(t, c.Weight(), lim)
		}
		require.Equal(t, len(model), c.Len())
		require.NoError(t, c.CheckInvariants())
	})
}
