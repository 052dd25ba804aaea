package main

import "syscall"

// ioctlReadTermios reads a terminal's attributes.
const ioctlReadTermios = syscall.TCGETS
