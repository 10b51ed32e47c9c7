//go:build unix

package upgrade

import "golang.org/x/sys/unix"

// rightsOf builds an SCM_RIGHTS control message for tests that send by hand.
func rightsOf(fds []int) []byte { return unix.UnixRights(fds...) }
