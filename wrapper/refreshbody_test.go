package wrapper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

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

// refreshRequest builds a request to a refresh view that carries the
// refresh token r, for the API at base.
type refreshRequest func(t *testing.T, base, r string) *http.Request

func newRefreshRequest(t *testing.T, method, u, contentType string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// percentFirst is r with its first character percent-encoded.
func percentFirst(r string) string {
	return "%" + strings.ToUpper(hex.EncodeToString([]byte(r[:1]))) + r[1:]
}

// base64Part is a multipart body whose one field holds r in base64.
func base64Part(boundary, disposition, r string) []byte {
	return []byte("--" + boundary + "\r\nContent-Disposition: form-data; " + disposition + "\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + base64.StdEncoding.EncodeToString([]byte(r)) + "\r\n--" + boundary + "--\r\n")
}

func utf16JSON(r string) []byte {
	out := []byte{0xff, 0xfe}
	for _, b := range []byte(`{"refresh":"` + r + `"}`) {
		out = append(out, b, 0)
	}
	return out
}

// otherSignatureSpelling is r with the last character of its signature
// changed in the two bits that base64 drops: the same token to PyJWT.
func otherSignatureSpelling(r string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return r[:len(r)-1] + string(alphabet[strings.IndexByte(alphabet, r[len(r)-1])^1])
}

// Requests that SimpleJWT takes as a refresh of the token they carry, in
// forms that Go's parsers read otherwise than Django's; refused is the
// error of those the client does not send.
var unusualRefreshes = []struct {
	name    string
	build   refreshRequest
	refused string
}{
	{"a method in lower case", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, "post", base+api.RefreshPath, "application/json", []byte(`{"refresh":"`+r+`"}`))
	}, ""},
	{"a wildcard form media type", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "*/x-www-form-urlencoded", []byte("refresh="+percentFirst(r)))
	}, ""},
	{"multipart/*, in base64", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "multipart/*; boundary=B", base64Part("B", `name="refresh"`, r))
	}, ""},
	{"a charset given twice", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath,
			"application/x-www-form-urlencoded; charset=ascii; charset=utf-8", []byte("refresh="+percentFirst(r)))
	}, ""},
	{"a boundary given twice", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "multipart/form-data; boundary=A; boundary=B", base64Part("B", `name="refresh"`, r))
	}, ""},
	{"a part named twice", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "multipart/form-data; boundary=B", base64Part("B", `name="x"; name="refresh"`, r))
	}, ""},
	{"a content-type header key in lower case", func(t *testing.T, base, r string) *http.Request {
		req := newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "", []byte("refresh="+percentFirst(r)))
		req.Header["content-type"] = []string{"application/x-www-form-urlencoded"}
		return req
	}, ""},
	{"another spelling of the signature", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "application/json", []byte(`{"refresh":"`+otherSignatureSpelling(r)+`"}`))
	}, ""},
	{"junk in the signature", func(t *testing.T, base, r string) *http.Request {
		i := strings.LastIndexByte(r, '.') + 5
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "application/json", []byte(`{"refresh":"`+r[:i]+"!!"+r[i:]+`"}`))
	}, ""},
	{"a port with a leading zero", func(t *testing.T, base, r string) *http.Request {
		i := strings.LastIndexByte(base, ':')
		return newRefreshRequest(t, http.MethodPost, base[:i+1]+"0"+base[i+1:]+api.RefreshPath, "application/json", []byte(`{"refresh":"`+r+`"}`))
	}, ""},
	{"the path in URL.Opaque", func(t *testing.T, base, r string) *http.Request {
		req := newRefreshRequest(t, http.MethodPost, base+"/", "application/json", []byte(`{"refresh":"`+r+`"}`))
		req.URL.Path, req.URL.Opaque = "", api.RefreshPath
		return req
	}, ""},
	{"UTF-16, its charset given after another", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, base+api.RefreshPath, "application/json; charset=utf-8; charset=utf-16", utf16JSON(r))
	}, `charset "utf-16" cannot be read`},
	{"the server under another name", func(t *testing.T, base, r string) *http.Request {
		return newRefreshRequest(t, http.MethodPost, strings.Replace(base, "127.0.0.1", "localhost", 1)+api.RefreshPath,
			"application/json", []byte(`{"refresh":"`+r+`"}`))
	}, "only the client's API may have it"},
}

// TestUnusualRefreshesOfTheSessionsToken: each request spends the token it
// carries when sent as it is; through the client, it is the session's
// refresh, or is not sent, and the session lives on.
func TestUnusualRefreshesOfTheSessionsToken(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	for _, tc := range unusualRefreshes {
		t.Run(tc.name, func(t *testing.T) {
			_, spent := srv.Pair(t)
			resp, err := http.DefaultTransport.RoundTrip(tc.build(t, srv.URL, spent))
			require.NoError(t, err)
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode, "the server takes it as a refresh")

			access, refresh := srv.Pair(t)
			var skew atomic.Int64
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithoutAmbientCredentials(),
				wrapper.WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })
			before := srv.RefreshRequests(t)
			resp, err = c.HTTPClient().Do(tc.build(t, srv.URL, refresh))
			if tc.refused != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.refused)
				assert.NotContains(t, err.Error(), refresh)
				assert.Equal(t, before, srv.RefreshRequests(t), "not sent")
			} else {
				require.NoError(t, err)
				_ = resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, before+1, srv.RefreshRequests(t), "one refresh: the session's")
			}
			skew.Store(int64(time.Hour)) // the session's access token expired by its clock
			_, err = c.AccessToken(context.Background())
			require.NoError(t, err, "the session's next refresh")
			require.NoError(t, meCtx(context.Background(), c, srv.URL))
		})
	}
}

// TestRefreshTokenOfTheSessionsToken: Client.RefreshToken of the session's
// own refresh token, by any spelling, is the session's refresh: the
// session holds the pair it returns, and lives on.
func TestRefreshTokenOfTheSessionsToken(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	var skew atomic.Int64
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithoutAmbientCredentials(),
		wrapper.WithClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	for _, spell := range []func(string) string{
		func(r string) string { return r },
		func(r string) string { return " " + r + "\n" },
		otherSignatureSpelling,
	} {
		before := srv.RefreshRequests(t)
		tok, err := c.RefreshToken(context.Background(), spell(refresh))
		require.NoError(t, err)
		require.NotEmpty(t, tok.Refresh, "rotated")
		assert.Equal(t, before+1, srv.RefreshRequests(t))
		got, err := c.AccessToken(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tok.Access, got, "the session holds the pair returned")
		refresh = tok.Refresh
	}
	skew.Store(int64(time.Hour))
	_, err = c.AccessToken(context.Background())
	require.NoError(t, err, "the session's next refresh")
}

// TestRefreshOfAnotherTokenInAStreamedBody: a refresh of another token in
// a body of unknown length, which cannot be sent again, reaches the server;
// one of the session's own token is served by the session.
func TestRefreshOfAnotherTokenInAStreamedBody(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithoutAmbientCredentials())
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_, other := srv.Pair(t)
	for _, body := range []string{`{"refresh":"` + other + `"}`, `{"refresh":"` + refresh + `"}`} {
		pr, pw := io.Pipe()
		go func() { _, _ = pw.Write([]byte(body)); _ = pw.Close() }()
		req, err := http.NewRequest(http.MethodPost, srv.URL+api.RefreshPath, pr)
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		before := srv.RefreshRequests(t)
		resp, err := c.HTTPClient().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, before+1, srv.RefreshRequests(t))
	}
	require.NoError(t, meCtx(context.Background(), c, srv.URL))
}
