// Package fifo is the growable ring buffer behind tinyufo's small and main
// queues. A Queue is not safe for concurrent use.
package fifo

// Queue is a first-in first-out queue. The zero value is an empty queue.
type Queue[T any] struct {
	buf  []T
	head int // index of the oldest element
	n    int
}

// Len returns the number of queued elements.
func (q *Queue[T]) Len() int { return q.n }

// Cap returns the number of elements the queue holds before it grows.
func (q *Queue[T]) Cap() int { return len(q.buf) }

// Push appends v at the tail.
func (q *Queue[T]) Push(v T) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = v
	q.n++
}

// Pop removes and returns the head; ok is false when the queue is empty.
func (q *Queue[T]) Pop() (v T, ok bool) {
	if q.n == 0 {
		return v, false
	}
	var zero T
	v = q.buf[q.head]
	q.buf[q.head] = zero
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return v, true
}

// Filter keeps, in order, the elements for which keep returns true, replaced
// by the value keep returns, and shrinks the buffer if it is mostly empty.
func (q *Queue[T]) Filter(keep func(T) (T, bool)) {
	out := make([]T, 0, q.n)
	for i := range q.n {
		if v, ok := keep(q.buf[(q.head+i)&(len(q.buf)-1)]); ok {
			out = append(out, v)
		}
	}
	size := 8
	for size < len(out) {
		size *= 2
	}
	if size < len(q.buf)/2 || size > len(q.buf) {
		q.buf = make([]T, size)
	} else {
		clear(q.buf)
	}
	copy(q.buf, out)
	q.head, q.n = 0, len(out)
}

// grow doubles the buffer (the length stays a power of two).
func (q *Queue[T]) grow() {
	size := max(2*len(q.buf), 8)
	buf := make([]T, size)
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}
