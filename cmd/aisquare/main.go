// Command aisquare does the AISquare Studio SDK's main job from a shell.
//
//	aisquare refresh   exchange a refresh token for a new access token
//	aisquare demo      run the SDK's flows against a local server, offline
//
// Run "aisquare <command> --help" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailure  = 1
	exitRejected = 2 // the refresh token was rejected: log in again
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: aisquare <command> [flags]

Commands:
  refresh   exchange a refresh token for a new access token
  demo      run the SDK's main flows against a local server, offline

Every command takes --verbose (refreshes, retries given up) and --debug
(every HTTP attempt as well), logged to standard error; $AISQUARE_LOG=debug
or info does the same. No log line carries a token.

Run "aisquare <command> --help" for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitFailure
	}
	switch args[0] {
	case "refresh":
		return refreshCmd(ctx, args[1:], stdin, stdout, stderr)
	case "demo":
		return demoCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "aisquare: unknown command %q\n%s", args[0], usage)
		return exitFailure
	}
}

// parseFlags parses a command's flags; done is true when the command should
// exit with code, after --help or a bad flag.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return exitOK, true
	case err != nil:
		return exitFailure, true
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "aisquare %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitFailure, true
	}
	return exitOK, false
}
