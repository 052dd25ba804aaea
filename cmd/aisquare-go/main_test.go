package main_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestHelp: --help (and -h, -help, help) of every command and subcommand
// prints its usage once, on stdout, and exits 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"-help"}, {"help"},
		{"session", "--help"}, {"session", "-h"}, {"session", "-help"}, {"session", "help"},
		{"session", "set", "--help"}, {"session", "set", "-h"},
		{"session", "show", "--help"}, {"session", "show", "-h"},
		{"session", "clear", "--help"}, {"session", "clear", "-h"},
		{"token", "--help"}, {"token", "-h"},
		{"refresh", "--help"}, {"refresh", "-h"},
		{"version", "--help"}, {"version", "-h"},
		{"demo", "--help"}, {"demo", "-h"},
		{"help", "token"}, {"help", "session", "clear"},
	} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
		assert.Contains(t, r.stdout, "Usage: aisquare-go", "%v", args)
		assert.Equal(t, 1, strings.Count(r.stdout, "Usage: aisquare-go"), "%v: printed once", args)
		if len(args) > 1 && args[0] != "help" && args[len(args)-1] != "help" {
			assert.True(t, strings.HasPrefix(r.stdout, "Usage: aisquare-go "+strings.Join(args[:len(args)-1], " ")),
				"%v: the usage of this command: %q", args, r.stdout)
		}
	}
	r := aisquareGo(t, nil, "", "help", "token")
	assert.True(t, strings.HasPrefix(r.stdout, "Usage: aisquare-go token "), "help token: %q", r.stdout)
	r = aisquareGo(t, nil, "", "token", "--no-such-flag")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -no-such-flag")
	assert.Equal(t, 1, strings.Count(r.stderr, "Usage: aisquare-go"), "a bad flag shows the usage once, on stderr")
	assert.Less(t, strings.Index(r.stderr, "not defined"), strings.Index(r.stderr, "Usage: aisquare-go"), "after the error line")
	assert.Empty(t, r.stdout)
	r = aisquareGo(t, nil, "", "bogus")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown command "bogus"`)
}

// TestTokenArgumentIsNotEchoed: a token given as an argument by mistake
// ("aisquare-go refresh $REFRESH") or as a flag's value is refused without
// being repeated on standard error, which CI logs keep.
func TestTokenArgumentIsNotEchoed(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(1)
	for _, args := range [][]string{
		{"refresh", refresh},
		{"token", refresh},
		{"session", "set", refresh},
		{"session", "show", refresh},
		{"session", "clear", refresh},
		{"session", refresh},
		{"version", refresh},
		{"help", refresh},
		{"token", "--api-url", "https://api.aisquare.studio", "--base-url", refresh},
		{"refresh", "--timeout", refresh},
		{"token", "--store", "x", "--timeout=" + refresh},
		{"refresh", "--" + refresh},
		{refresh},
	} {
		r := aisquareGo(t, nil, "", args...)
		assert.NotEqual(t, 0, r.code)
		assert.NotContains(t, r.stderr, refresh, "aisquare-go %s ...: token on stderr", args[0])
		assert.Contains(t, r.stderr, "[REDACTED]", "aisquare-go %s ...: says what it refused", args[0])
	}

	r := aisquareGo(t, nil, "", "refresh", "extra")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "aisquare-go refresh: unexpected argument \"extra\" (a token is never an argument: see --help)\n", r.stderr,
		"an argument that is no token is shown")
}
