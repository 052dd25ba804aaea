// Command aisquare-go does the AISquare Studio SDK's main jobs from a shell,
// and keeps a session in the same file format as wrapper.NewFileStore. Its
// name leaves "aisquare" on the PATH to AISquare's own command-line tool.
//
//	aisquare-go session set     save an access and a refresh token, read from standard input
//	aisquare-go session show    print the stored session's API URL, source and expiry
//	aisquare-go session clear   remove the stored session
//	aisquare-go token           print a valid access token, refreshing it when due
//	aisquare-go refresh         exchange a refresh token for a new access token
//	aisquare-go version         print the SDK's version
//	aisquare-go demo            run the SDK's flows against a local server, offline
//
// Run "aisquare-go <command> --help" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailure  = 1
	exitRejected = 2 // the session is rejected or missing: log in again
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `Usage: aisquare-go <command> [flags]

Commands:
  session set     save an access and a refresh token, read from standard
                  input, in the session store (after a login made elsewhere)
  session show    print the stored session's API URL, source and expiry
  session clear   remove the stored session
  token           print a valid access token, refreshing it first when due:
                  curl -H "Authorization: Bearer $(aisquare-go token)" ...
  refresh         exchange a refresh token for a new access token
  version         print the SDK's version
  demo            run the SDK's main flows against a local server, offline

The session store is a file (--store PATH; default session.json in aisquare/
under the user's configuration directory) that records the API's URL: a
command aimed at another API (--api-url, $AISQUARE_API_URL, and the older
names --base-url and $AISQUARE_BASE_URL) is refused rather than sending the
tokens there. "aisquare-go session clear" removes a session saved for the
wrong one.

Exit status: 0 on success, 2 when the session is rejected or missing, or a
token empty (log in again and hand the new tokens over with
"aisquare-go session set"), 1 otherwise.

Every command that sends requests takes --verbose (refreshes, retries given
up) and --debug (every HTTP attempt as well), logged to standard error;
$AISQUARE_LOG=debug or info does the same. No log line carries a token.

Run "aisquare-go <command> --help" for a command's flags.
`

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitFailure
	}
	switch args[0] {
	case "session":
		return sessionCmd(ctx, args[1:], stdin, stdout, stderr)
	case "token":
		return tokenCmd(ctx, args[1:], stdin, stdout, stderr)
	case "refresh":
		return refreshCmd(ctx, args[1:], stdin, stdout, stderr)
	case "version", "--version", "-version":
		return versionCmd(args[1:], stdout, stderr)
	case "demo":
		return demoCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 && args[0] == "help" {
			// "aisquare-go help token" is "aisquare-go token --help".
			return run(ctx, append(args[1:], "--help"), stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "%s\n%s", redact.Text(fmt.Sprintf("aisquare-go: unknown command %q", args[0]), maxErrorLine), usage)
		return exitFailure
	}
}

// newFlagSet returns the flag set of a command that writes its errors to
// stderr. What the flag package writes goes through [redact.NewWriter]: it
// repeats a flag's value it cannot parse, and a token given by mistake as a
// flag's value must not land in a terminal's scrollback or a CI log.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(redact.NewWriter(stderr))
	return fs
}

// parseFlags parses a command's flags; done is true when the command should
// exit with code, after --help or a bad flag.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (code int, done bool) {
	// The flag package prints the usage itself, on its output, for --help
	// and after a bad flag: held back here, so that --help prints it once,
	// on stdout, and a bad flag after its error line, on stderr.
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(redact.NewWriter(stdout))
		fs.Usage()
		return exitOK, true
	case err != nil:
		fs.Usage()
		return exitFailure, true
	case fs.NArg() > 0:
		// The argument may be a token passed by mistake ("aisquare-go refresh
		// $REFRESH"): it is shown redacted, and cut.
		fmt.Fprintln(fs.Output(), redact.Text(fmt.Sprintf("aisquare-go %s: unexpected argument %q", fs.Name(), fs.Arg(0)), maxErrorLine)+
			" (a token is never an argument: see --help)")
		return exitFailure, true
	}
	return exitOK, false
}
