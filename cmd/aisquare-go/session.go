package main

import (
	"context"
	"fmt"
	"io"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

func sessionCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, sessionUsage)
		return exitFailure
	}
	switch args[0] {
	case "set":
		return sessionSetCmd(ctx, args[1:], stdin, stdout, stderr)
	case "show":
		return sessionShowCmd(ctx, args[1:], stdout, stderr)
	case "clear":
		return sessionClearCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, sessionUsage)
		return exitOK
	}
	fmt.Fprintln(stderr, redact.Text(fmt.Sprintf("aisquare-go session: unknown subcommand %q", args[0]), maxErrorLine))
	fmt.Fprint(stderr, sessionUsage)
	return exitFailure
}

const sessionUsage = `Usage: aisquare-go session <subcommand> [flags]

Subcommands:
  set     save an access and a refresh token, read from standard input
  show    print the API URL, the source and the expiry of the stored session
  clear   remove the stored session

Run "aisquare-go session <subcommand> --help" for more.
`
