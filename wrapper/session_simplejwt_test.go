package wrapper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// refreshCounter counts the refresh requests that reach the network.
type refreshCounter struct{ refreshes atomic.Int32 }

func (c *refreshCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == api.RefreshPath {
		c.refreshes.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestSessionAgainstSimpleJWTWithAnOldLogin: a real SimpleJWT server with
// 5-second access tokens, and a refresh token issued two minutes earlier,
// whose iat every refreshed access token copies. The session makes at most
// one refresh per access-token lifetime: each token is used for at least
// half its life, then replaced by one refresh; and every call succeeds.
func TestSessionAgainstSimpleJWTWithAnOldLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12 seconds")
	}
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "rotation off", true: "rotation and blacklist"}[rotate]
		t.Run(name, func(t *testing.T) {
			const lifetime = 5 * time.Second
			srv := simplejwt.Start(t, simplejwt.Options{Rotate: rotate, Blacklist: rotate, AccessLifetime: lifetime})
			access, refresh := srv.PairIssuedAgo(t, 2*time.Minute)
			counter := &refreshCounter{}
			var mu sync.Mutex
			var refreshedAt []time.Time
			onRefresh := func(ev wrapper.RefreshEvent) {
				if ev.Err == nil {
					mu.Lock()
					refreshedAt = append(refreshedAt, time.Now())
					mu.Unlock()
				}
			}
			store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
				wrapper.WithHTTPClient(&http.Client{Transport: counter}), wrapper.WithOnRefresh(onRefresh))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })

			const duration = 12 * time.Second
			start := time.Now()
			calls := 0
			for time.Since(start) < duration {
				require.NoError(t, meCtx(context.Background(), c, srv.URL), "call %d at %v", calls, time.Since(start))
				calls++
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, c.Close())
			n := int(counter.refreshes.Load())
			t.Logf("%d calls over %v made %d refreshes", calls, duration, n)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, refreshedAt, n, "every refresh succeeded")
			for i := 1; i < len(refreshedAt); i++ {
				// exp is in whole seconds: a token lives 4 to 5 seconds.
				assert.Greater(t, refreshedAt[i].Sub(refreshedAt[i-1]), 3*lifetime/10,
					"refresh %d came %v after the one before", i, refreshedAt[i].Sub(refreshedAt[i-1]))
			}
			// One for the expired login token, then one per token.
			assert.LessOrEqual(t, n, 1+int(duration/(lifetime/2)), "at most one refresh per access token")
			assert.GreaterOrEqual(t, n, 3, "the tokens were renewed")
			stored, err := store.Load(context.Background())
			require.NoError(t, err)
			got, err := c.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, got, stored.AccessToken, "the store holds the pair in use")
		})
	}
}

// TestSessionFailedSaveAgainstSimpleJWT: with rotation and blacklist on a
// real server, a save that fails leaves the spent refresh token in the
// store; the session keeps the rotated one, and its next refresh works.
func TestSessionFailedSaveAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	var log []string
	store := &logStore{log: &log}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()

	// A refresh through the API is the session's own: it rotates, and the
	// save fails.
	store.setFail(errors.New("no space left on device"))
	resp, err := c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(refresh))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	rotated := resp.JSON200.Refresh
	require.NotEmpty(t, rotated)
	assert.Equal(t, refresh, store.load().RefreshToken, "the spent token is what the store holds")
	store.setFail(nil)

	// The next refresh spends the rotated token, not the spent one.
	resp, err = c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(rotated))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	assert.Equal(t, resp.JSON200.Refresh, store.load().RefreshToken)
	require.NoError(t, meCtx(ctx, c, srv.URL))
}

func iatOf(t *testing.T, jwt string) int64 {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct{ Iat int64 }
	require.NoError(t, json.Unmarshal(payload, &c))
	return c.Iat
}

// TestSessionSameSecondRotationAgainstSimpleJWT is
// TestSessionSameSecondRotationByAnotherProcess on the real SimpleJWT 5.2.2
// server with the real clock: a login and a rotation by process A in the
// same second (SimpleJWT's iat has one-second resolution), then process B,
// which loaded the login pair, refreshes under the store's lock and must
// take A's pair, not spend the blacklisted token.
func TestSessionSameSecondRotationAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	ctx := context.Background()
	for try := 0; ; try++ {
		require.Less(t, try, 5, "never got a login and a rotation in the same second")
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		a0, r0 := srv.Pair(t)
		path := filepath.Join(t.TempDir(), "s", "session.json")
		require.NoError(t, wrapper.NewFileStore(path).Save(ctx, &oauth2.Token{AccessToken: a0, RefreshToken: r0}))
		procA, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
		require.NoError(t, err)
		procB, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
		require.NoError(t, err)

		respA, err := procA.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
		require.NoError(t, err)
		require.Equal(t, 200, respA.StatusCode())
		require.NotNil(t, respA.JSON200)
		if iatOf(t, respA.JSON200.Refresh) != iatOf(t, r0) {
			_ = procA.Close()
			_ = procB.Close()
			continue // crossed a second boundary: try again
		}
		respB, err := procB.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
		require.NoError(t, err)
		assert.Equal(t, 200, respB.StatusCode(), "process B's session died: %s", respB.Body)
		_ = procA.Close()
		_ = procB.Close()
		return
	}
}

// TestOwnRefreshInEveryEncodingAgainstSimpleJWT: a refresh of the
// session's own refresh token, in every body Django REST Framework reads as
// one, is the session's: with rotation and blacklist, the server sees one
// refresh, and the session is still alive after it. Each body was first
// sent to the server as it is, which took the token in it.
func TestOwnRefreshInEveryEncodingAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	const form, boundary = "application/x-www-form-urlencoded", "multipart/form-data; boundary=B"
	part := func(header, value string) string {
		return "--B\r\nContent-Disposition: form-data; name=\"refresh\"\r\n" + header + "\r\n" + value + "\r\n--B--\r\n"
	}
	for _, tc := range []struct {
		name, contentType string
		body              func(refresh string) string
	}{
		{"form", form, func(r string) string { return url.Values{"refresh": {r}}.Encode() }},
		{"form, the last of two values", form, func(r string) string { return "refresh=x&refresh=" + r }},
		{"form, percent-encoded", form, func(r string) string { return "refresh=%" + strings.ToUpper(hex.EncodeToString([]byte(r[:1]))) + r[1:] }},
		{"JSON, the last of a repeated key", "application/json", func(r string) string { return `{"refresh":"x","refresh":"` + r + `"}` }},
		{"JSON, escaped, among separators Python strips", "application/json",
			func(r string) string {
				return `{"refresh":"\u001c\u00a0\u` + fmt.Sprintf("%04x", r[0]) + r[1:] + `\u001f"}`
			}},
		{"multipart", boundary, func(r string) string { return part("", r) }},
		{"multipart, in base64", boundary,
			func(r string) string {
				return part("Content-Transfer-Encoding: base64\r\n", base64.StdEncoding.EncodeToString([]byte(r)))
			}},
		{"multipart, without its closing boundary", boundary,
			func(r string) string {
				return "--B\r\nContent-Disposition: form-data; name=\"refresh\"\r\n\r\n" + r + "\r\n--B"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			access, refresh := srv.Pair(t)
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithoutAmbientCredentials())
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			before := srv.RefreshRequests(t)

			resp, err := c.HTTPClient().Post(srv.URL+api.RefreshPath, tc.contentType, strings.NewReader(tc.body(refresh)))
			require.NoError(t, err)
			var ans api.TokenRefresh
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, before+1, srv.RefreshRequests(t), "one refresh: the session's")

			// The session holds the rotated pair, and its next refresh works.
			got, err := c.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, ans.Access, got, "the session holds the pair it answered with")
			next, err := c.API().RefreshCreateWithResponse(context.Background(), api.TokenRefreshRequest{Refresh: ans.Refresh})
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, next.StatusCode(), "the session died: %s", next.Body)
			assert.Equal(t, before+2, srv.RefreshRequests(t))
			require.NoError(t, meCtx(context.Background(), c, srv.URL))

			// The spent token goes to the server as it is, which refuses it.
			resp, err = c.HTTPClient().Post(srv.URL+api.RefreshPath, tc.contentType, strings.NewReader(tc.body(refresh)))
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "blacklisted")
		})
	}
}

// TestUnreadableRefreshBodiesAreNotSent: a refresh request whose body the
// session cannot read for the token it carries (UTF-16, which Django REST
// Framework decodes; over 64 KiB) is not sent: the caller gets an error
// that says why, and the session keeps its token.
func TestUnreadableRefreshBodiesAreNotSent(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithoutAmbientCredentials())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	before := srv.RefreshRequests(t)

	utf16 := []byte{0xff, 0xfe}
	for _, b := range []byte(`{"refresh":"` + refresh + `"}`) {
		utf16 = append(utf16, b, 0)
	}
	_, err = c.HTTPClient().Post(srv.URL+api.RefreshPath, "application/json; charset=utf-16", bytes.NewReader(utf16))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `charset "utf-16"`)
	assert.NotContains(t, err.Error(), refresh)

	padded := `{"refresh":"` + refresh + `"` + strings.Repeat(" ", 64<<10) + `}`
	_, err = c.HTTPClient().Post(srv.URL+api.RefreshPath, "application/json", strings.NewReader(padded))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "over 64 KiB")
	assert.Equal(t, before, srv.RefreshRequests(t), "neither reached the server")

	// A refresh of another token goes to the server as it is.
	_, other := srv.Pair(t)
	resp, err := c.HTTPClient().Post(srv.URL+api.RefreshPath, "application/x-www-form-urlencoded",
		strings.NewReader(url.Values{"refresh": {other}}.Encode()))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, before+1, srv.RefreshRequests(t))
	next, err := c.API().RefreshCreateWithResponse(context.Background(), api.TokenRefreshRequest{Refresh: refresh})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, next.StatusCode(), "the session's token was never spent: %s", next.Body)
}
