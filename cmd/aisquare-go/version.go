package main

import (
	"fmt"
	"io"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func versionCmd(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare-go version

Prints the SDK's version, which its requests' User-Agent carries too.
`)
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	fmt.Fprintf(stdout, "aisquare-go %s\n", wrapper.Version)
	return exitOK
}
