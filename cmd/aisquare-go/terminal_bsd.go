//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package main

import "syscall"

// ioctlReadTermios reads a terminal's attributes.
const ioctlReadTermios = syscall.TIOCGETA
