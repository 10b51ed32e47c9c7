//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package listener

import (
	"errors"
	"time"
)

const haveLinuxTCP = false

var errLinuxOnly = errors.New("listener: option needs linux")

func setFastOpen(int, int) error { return errLinuxOnly }

func setUserTimeout(int, time.Duration) error { return errLinuxOnly }

func setNotSentLowat(int, int) error { return errLinuxOnly }
