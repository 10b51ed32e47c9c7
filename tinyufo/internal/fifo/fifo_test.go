package fifo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestQueue_PushPop(t *testing.T) {
	var q Queue[int]
	_, ok := q.Pop()
	assert.False(t, ok)
	next := 0
	for round := range 5 {
		for i := range 3 + 7*round {
			q.Push(round*1000 + i)
		}
		for range 2 + 5*round {
			v, ok := q.Pop()
			require.True(t, ok)
			assert.GreaterOrEqual(t, v, next)
			next = v
		}
	}
	assert.Equal(t, 25, q.Len()) // (3+10+17+24+31) - (2+7+12+17+22)
	prev := -1
	for q.Len() > 0 {
		v, _ := q.Pop()
		assert.Greater(t, v, prev)
		prev = v
	}
}

func TestQueue_Filter(t *testing.T) {
	var q Queue[int]
	for i := range 100 {
		q.Push(i)
	}
	for range 10 {
		q.Pop()
	}
	q.Filter(func(v int) (int, bool) { return v * 2, v%3 == 0 })
	assert.Equal(t, 30, q.Len())
	assert.LessOrEqual(t, q.Cap(), 64)
	for want := 24; q.Len() > 0; want += 6 {
		v, _ := q.Pop()
		assert.Equal(t, want, v)
	}
}
