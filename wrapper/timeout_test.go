package wrapper_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// stallBody answers 200 with the start of a JSON body, then waits for the
// client to give up.
func stallBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access":`)
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// doers returns the two ways a request takes through c: c.HTTPClient()
// and the HTTP client under c.API().
func doers(c *wrapper.Client) map[string]func(*http.Request) (*http.Response, error) {
	return map[string]func(*http.Request) (*http.Response, error){
		"c.HTTPClient()": c.HTTPClient().Do,
		"c.API()":        c.API().ClientInterface.(*api.Client).Client.Do,
	}
}

// getBody sends a GET to url through do and reads the whole answer.
func getBody(t *testing.T, do func(*http.Request) (*http.Response, error), url string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestTimeoutCoversTheResponseBody(t *testing.T) {
	given := &http.Client{Timeout: 100 * time.Millisecond}
	for name, opts := range map[string][]wrapper.Option{
		"WithTimeout":    {wrapper.WithTimeout(100 * time.Millisecond)},
		"WithHTTPClient": {wrapper.WithHTTPClient(given)},
	} {
		c := newClient(t, stallBody, opts...)
		for via, do := range doers(c) {
			t.Run(name+"/"+via, func(t *testing.T) {
				err := getBody(t, do, c.BaseURL()+"/api/v1/me/")
				require.ErrorIs(t, err, context.DeadlineExceeded)
			})
		}
		t.Run(name+"/RefreshToken", func(t *testing.T) {
			_, err := c.RefreshToken(context.Background(), secret)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assertNoSecret(t, err)
		})
	}
	assert.Equal(t, 100*time.Millisecond, given.Timeout, "the given client is not modified")
}

// The timeout bounds the wait for the session's token and the replay after
// a 401, whichever way the request takes.
func TestTimeoutCoversTheTokensWaitAndTheReplay(t *testing.T) {
	refreshHangs := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, api.RefreshPath) {
				hang(w, r)
				return
			}
			reply(status, "application/json", `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`)(w, r)
		}
	}
	for _, tc := range []struct {
		name   string
		access string
		status int
	}{
		{"expired token", jwtExpiring(time.Now().Add(-time.Minute)), http.StatusOK},
		{"401 for a valid token", jwtExpiring(time.Now().Add(time.Hour)), http.StatusUnauthorized},
	} {
		c := newClient(t, refreshHangs(tc.status), wrapper.WithTokens(tc.access, secret),
			wrapper.WithTimeout(100*time.Millisecond))
		for via, do := range doers(c) {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				err := getBody(t, do, c.BaseURL()+"/api/v1/me/")
				require.ErrorIs(t, err, context.DeadlineExceeded)
				assertNoSecret(t, err)
			})
		}
	}
}
