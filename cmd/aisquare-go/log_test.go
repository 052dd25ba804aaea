package main_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func TestLogFlags(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	busy := wrappertest.Fault{Status: 503, Header: http.Header{"Retry-After": {"0"}, "X-Request-Id": {"req-42"}}, Body: `{"detail":"Service unavailable."}`}

	tests := []struct {
		name    string
		env     []string
		args    []string
		faults  int      // 503s before the answer
		want    []string // in stderr
		notWant []string
		code    int
	}{
		{"quiet by default", nil, nil, 1, nil, []string{"level="}, 0},
		{"--debug", nil, []string{"--debug"}, 1, []string{
			"level=DEBUG", `msg="aisquare: request attempt"`, "method=POST", "path=" + api.RefreshPath,
			"attempt=1", "status=503", "retry_in=", "request_id=req-42", "attempt=2", "status=200", "token=false",
		}, nil, 0},
		{"--verbose: no attempts", nil, []string{"--verbose"}, 1, nil, []string{"request attempt"}, 0},
		{"--verbose: retries given up", nil, []string{"--verbose"}, 4, []string{
			"level=WARN", "retries given up", "attempts=4", "status=503", "request_id=req-42",
		}, []string{"level=DEBUG"}, 1},
		{"AISQUARE_LOG=debug", []string{"AISQUARE_LOG=debug"}, nil, 0, []string{"level=DEBUG", "status=200"}, nil, 0},
		{"--debug wins over AISQUARE_LOG", []string{"AISQUARE_LOG=warn"}, []string{"--debug"}, 0, []string{"level=DEBUG"}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range tc.faults {
				srv.Inject(wrappertest.RefreshRoute, busy)
			}
			env := append([]string{"AISQUARE_REFRESH_TOKEN=" + refresh}, tc.env...)
			r := aisquareGo(t, env, "", append([]string{"refresh", "--base-url", srv.URL}, tc.args...)...)
			require.Equal(t, tc.code, r.code, "stderr: %s", r.stderr)
			for _, want := range tc.want {
				assert.Contains(t, r.stderr, want)
			}
			for _, s := range tc.notWant {
				assert.NotContains(t, r.stderr, s)
			}
			assert.NotContains(t, r.stderr, refresh)
			if tc.code == 0 {
				access := decode(t, r.stdout).Access
				assert.NotContains(t, r.stderr, access, "the new token is on stdout only")
				assert.NotContains(t, r.stderr, "eyJ")
			}
		})
	}
}

func TestDemoDebug(t *testing.T) {
	r := aisquareGo(t, nil, "", "demo", "--debug")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "done")
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	assert.Greater(t, len(lines), 5, "a record for every attempt")
	for _, line := range lines {
		assert.Contains(t, line, "aisquare: ")
	}
	assert.Contains(t, r.stderr, "token=true", "the session's requests")
	assert.NotContains(t, r.stderr, "eyJ")
}

// TestBadLogEnv: a typo in AISQUARE_LOG is a warning, and the command goes
// on, logging nothing.
func TestBadLogEnv(t *testing.T) {
	// A refresh token of the right shape, to a server that is not there.
	const refresh = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MjAwMDAwMDAwMH0.c2ln"
	r := aisquareGo(t, []string{"AISQUARE_LOG=loud", "AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, r.code, "the refresh itself fails: nothing listens there")
	assert.Contains(t, r.stderr, `wrapper: ignoring $AISQUARE_LOG "loud": want debug, info, warn, error or off; logging nothing`)
	assert.Contains(t, r.stderr, "connection refused", "the command went on")
}

// TestVerboseLogsRefreshes: --verbose records the refreshes the command
// makes itself, against the real backend.
func TestVerboseLogsRefreshes(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 30 * time.Second})
	_, refresh := srv.Pair(t)
	r := aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL, "--verbose")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "token refreshed", "refresh --verbose")
	assert.NotContains(t, r.stderr, refresh)

	store := filepath.Join(t.TempDir(), "cfg", "session.json")
	access, refresh := srv.PairIssuedAgo(t, 40*time.Second) // its 30-second access token has expired
	r = aisquareGo(t, nil, access+"\n"+refresh+"\n", "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "token", "--store", store, "--verbose")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NotEqual(t, access, strings.TrimSpace(r.stdout), "token refreshed it")
	assert.Contains(t, r.stderr, "token refreshed", "token --verbose")
	assert.NotContains(t, r.stderr, access)
}
