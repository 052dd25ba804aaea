package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func sessionClearCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &common{name: "session clear", stderr: stderr}
	fset := newFlagSet("session clear", stderr)
	fset.StringVar(&c.store, "store", "", "the session store `PATH` (default "+displayDefaultStore()+")")
	fset.DurationVar(&c.timeout, "timeout", wrapper.DefaultTimeout, "give up after this long, waiting for the store's lock included")
	fset.Usage = func() {
		fmt.Fprint(fset.Output(), `Usage: aisquare-go session clear [--store PATH]

Removes the session store's file, under the store's lock, whatever API its
session belongs to: a session saved for a mistyped --api-url is then no
longer in the way. It sends nothing, so the server still honours the
removed tokens until they expire. A file that is not a session store is
left as it is, with an error.

Exit status: 0 when the session is removed, or there was none; 1 otherwise.

Flags:
`)
		fset.PrintDefaults()
	}
	if code, done := parseFlags(fset, args, stdout); done {
		return code
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	path, err := c.storePath("")
	if err != nil {
		return c.fail(err)
	}
	cleared, err := clearStore(ctx, path, false)
	switch {
	case err != nil:
		return c.fail(err)
	case !cleared.removed:
		fmt.Fprintf(stderr, "aisquare-go session clear: no session in %s: nothing to remove\n", path)
	case cleared.empty:
		fmt.Fprintf(stderr, "aisquare-go session clear: removed %s, which held no session\n", path)
	case cleared.apiURL == "":
		fmt.Fprintf(stderr, "aisquare-go session clear: removed the session in %s (saved before the store recorded its API URL)\n", path)
	default:
		fmt.Fprintf(stderr, "aisquare-go session clear: removed the session for %s from %s\n", cleared.apiURL, path)
	}
	return exitOK
}

// cleared is what [clearStore] removed.
type cleared struct {
	removed bool   // a file was removed
	empty   bool   // it held nothing (see [holdsNothing])
	apiURL  string // the API URL of its session; "" if none was recorded
}

// clearStore removes the session store's file at path under the store's
// lock, if it holds a session or nothing at all; with onlyEmpty, only if it
// holds nothing. A file that is not a session store is an error, and
// stays. The lock file stays too: another process may be waiting on it.
func clearStore(ctx context.Context, path string, onlyEmpty bool) (cleared, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return cleared{}, nil
	}
	empty, err := holdsNothing(path)
	if err != nil || onlyEmpty && !empty {
		return cleared{}, err
	}
	store := wrapper.NewFileStore(path)
	unlock, err := store.Lock(ctx)
	if err != nil {
		return cleared{}, err
	}
	defer unlock()
	// Inside the lock: what the file holds now.
	if empty, err = holdsNothing(path); err != nil || onlyEmpty && !empty {
		return cleared{}, err
	}
	c := cleared{removed: true, empty: empty}
	if !empty {
		if c.apiURL, err = store.BaseURL(ctx); err != nil {
			return cleared{}, fmt.Errorf("%w; left as it is", err)
		}
	}
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return cleared{}, nil
		}
		return cleared{}, fmt.Errorf("removing the session store: %w", err)
	}
	return c, nil
}
