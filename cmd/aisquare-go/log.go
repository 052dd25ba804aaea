package main

import (
	"flag"
	"io"
	"log/slog"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// logFlags registers --verbose and --debug on fs. The function it returns,
// called after fs is parsed, gives the options that send the SDK's log
// records to stderr as text; none without either flag, which leaves
// $AISQUARE_LOG in charge.
func logFlags(fs *flag.FlagSet, stderr io.Writer) func() []wrapper.Option {
	verbose := fs.Bool("verbose", false, "log token refreshes, failed refreshes and retries given up to standard error")
	debug := fs.Bool("debug", false, "log every HTTP attempt as well (method, path, status, duration; never a token)")
	return func() []wrapper.Option {
		level := slog.LevelInfo
		switch {
		case *debug:
			level = slog.LevelDebug
		case !*verbose:
			return nil
		}
		return []wrapper.Option{wrapper.WithLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})))}
	}
}
