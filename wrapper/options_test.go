package wrapper_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func TestBaseURLFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name, baseEnv, apiEnv string
		opts                  []wrapper.Option
		want                  string
		wantErr               string
	}{
		{name: "neither", want: wrapper.DefaultBaseURL},
		{name: "AISQUARE_BASE_URL", baseEnv: "https://stg-api.aisquare.studio/", want: "https://stg-api.aisquare.studio"},
		{name: "AISQUARE_API_URL", apiEnv: "https://stg-api.aisquare.studio", want: "https://stg-api.aisquare.studio"},
		{name: "AISQUARE_API_URL wins over AISQUARE_BASE_URL, as AISquare's own tool reads it", baseEnv: "http://127.0.0.1:1", apiEnv: "https://stg-api.aisquare.studio", want: "https://stg-api.aisquare.studio"},
		{name: "WithBaseURL wins, and an invalid environment is not read", baseEnv: "ftp://bad", apiEnv: "::", opts: []wrapper.Option{wrapper.WithBaseURL("http://127.0.0.1:2")}, want: "http://127.0.0.1:2"},
		{name: "an invalid AISQUARE_API_URL", apiEnv: "ftp://x", wantErr: "$" + wrapper.APIURLEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(wrapper.BaseURLEnv, tc.baseEnv)
			t.Setenv(wrapper.APIURLEnv, tc.apiEnv)
			c, err := wrapper.New(tc.opts...)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.BaseURL())
		})
	}
}

// TestBaseURLErrorsHideTheQuery: a URL's query or credentials may hold a
// key, and an error never repeats them.
func TestBaseURLErrorsHideTheQuery(t *testing.T) {
	for _, raw := range []string{
		"https://api.example.com/?api_key=sekret-value",
		"https://api.example.com/#sekret-value",
		"https://user:sekret-value@api.example.com/",
		"ftp://api.example.com/?api_key=sekret-value",
		"https://api.example.com:bad/?api_key=sekret-value",
		"https://api example.com/?api_key=sekret-value",
		"mailto:x?api_key=sekret-value",
	} {
		_, err := wrapper.New(wrapper.WithBaseURL(raw))
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "sekret-value", raw)
		assert.Contains(t, err.Error(), "wrapper: invalid base URL", raw)

		t.Setenv(wrapper.BaseURLEnv, raw)
		_, err = wrapper.New()
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "sekret-value", raw)
	}
}

// TestCloseLeavesSharedConnectionsAlone: Close closes the connections of
// the client's own transport, never those of http.DefaultTransport.
func TestCloseLeavesSharedConnectionsAlone(t *testing.T) {
	var mu sync.Mutex
	states := map[net.Conn][]http.ConnState{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(conn net.Conn, state http.ConnState) {
		mu.Lock()
		states[conn] = append(states[conn], state)
		mu.Unlock()
	}
	srv.Start()
	t.Cleanup(srv.Close)
	get := func(hc *http.Client) {
		resp, err := hc.Get(srv.URL)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	closed := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range states {
			if s[len(s)-1] == http.StateClosed {
				n++
			}
		}
		return n
	}

	get(http.DefaultClient) // an idle connection of http.DefaultTransport
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	get(c.HTTPClient()) // an idle connection of the client's own
	mu.Lock()
	require.Len(t, states, 2, "two connections")
	mu.Unlock()

	require.NoError(t, c.Close())
	assert.Eventually(t, func() bool { return closed() == 1 }, 2*time.Second, 10*time.Millisecond, "the client's own connection is closed")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 1, closed(), "the shared one is not")
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
