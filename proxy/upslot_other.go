//go:build !linux

package proxy

import "syscall"

// canProbe: connections are not parked where they cannot be checked
// without blocking.
const canProbe = false

type probe struct{}

func (pb *probe) peek(uintptr) bool                             { return true }
func (pb *probe) idle(syscall.RawConn, func(uintptr) bool) bool { return false }
