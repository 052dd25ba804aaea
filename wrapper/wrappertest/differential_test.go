package wrappertest_test

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// answer is what a scenario step saw: status, the headers that matter, and
// the JSON body with token values replaced.
type answer struct {
	Step        string
	Status      int
	ContentType string
	Location    string
	Allow       string
	WWWAuth     string
	Body        any
}

// scenario runs the same requests against a server at baseURL, starting
// from a token pair, and returns what it saw.
func scenario(t *testing.T, baseURL, access, refresh string) []answer {
	t.Helper()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var answers []answer
	do := func(step, method, path, contentType, body, bearer string) map[string]any {
		req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
		require.NoError(t, err)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if bearer != "" {
			req.Header.Set("Authorization", api.AuthScheme+" "+bearer)
		}
		resp, err := noRedirect.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		a := answer{Step: step, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"),
			Location: resp.Header.Get("Location"), Allow: resp.Header.Get("Allow"), WWWAuth: resp.Header.Get("WWW-Authenticate")}
		var obj map[string]any
		if json.Unmarshal(data, &obj) == nil {
			raw := map[string]any{}
			for k, v := range obj {
				raw[k] = v
			}
			for _, k := range []string{"access", "refresh"} {
				if _, ok := obj[k].(string); ok && resp.StatusCode == http.StatusOK {
					obj[k] = "<token>"
				}
			}
			if d, ok := obj["detail"].(string); ok && strings.HasPrefix(d, "JSON parse error - ") {
				obj["detail"] = "JSON parse error - <parser's message>"
			}
			a.Body = obj
			answers = append(answers, a)
			return raw
		}
		a.Body = string(data)
		if resp.StatusCode == http.StatusNotFound {
			a.Body = strings.Contains(string(data), "<h1>Not Found</h1>")
		}
		answers = append(answers, a)
		return nil
	}
	const json = "application/json"
	rotated := do("refresh", "POST", wrappertest.RefreshRoute, json, `{"refresh":"`+refresh+`"}`, "")
	newRefresh, _ := rotated["refresh"].(string)
	newRefresh = cmp.Or(newRefresh, refresh) // without rotation, the same
	newAccess, _ := rotated["access"].(string)
	do("reuse the rotated token", "POST", wrappertest.RefreshRoute, json, `{"refresh":"`+refresh+`"}`, "")
	do("the rotated token", "POST", wrappertest.RefreshRoute, json, `{"refresh":"`+newRefresh+`"}`, "")
	do("access as refresh", "POST", wrappertest.RefreshRoute, json, `{"refresh":"`+access+`"}`, "")
	do("garbage", "POST", wrappertest.RefreshRoute, json, `{"refresh":"garbage"}`, "")
	do("bad signature", "POST", wrappertest.RefreshRoute, json, `{"refresh":"`+newRefresh[:len(newRefresh)-4]+`AAAA"}`, "")
	do("empty object", "POST", wrappertest.RefreshRoute, json, `{}`, "")
	do("blank", "POST", wrappertest.RefreshRoute, json, `{"refresh":""}`, "")
	do("null", "POST", wrappertest.RefreshRoute, json, `{"refresh":null}`, "")
	do("a list", "POST", wrappertest.RefreshRoute, json, `[]`, "")
	do("malformed JSON", "POST", wrappertest.RefreshRoute, json, `{bad`, "")
	do("access is ignored", "POST", wrappertest.RefreshRoute, json, `{"access":"x"}`, "")
	do("form body", "POST", wrappertest.RefreshRoute, "text/plain", `refresh=x`, "")
	do("no trailing slash", "POST", strings.TrimSuffix(wrappertest.RefreshRoute, "/"), json, `{}`, "")
	do("GET", "GET", wrappertest.RefreshRoute, "", "", "")
	do("unknown route", "GET", "/api/v1/nothing/", "", "", "")
	do("protected, no token", "GET", "/api/v1/me/", "", "", "")
	do("protected, access token", "GET", "/api/v1/me/", "", "", newAccess)
	do("protected, refresh token", "GET", "/api/v1/me/", "", "", newRefresh)
	do("protected, garbage", "GET", "/api/v1/me/", "", "", "garbage")
	return answers
}

// TestDifferential runs the same scenario against the fake and a real
// SimpleJWT server, and compares every answer.
func TestDifferential(t *testing.T) {
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "rotation off", true: "rotation and blacklist"}[rotate]
		t.Run(name, func(t *testing.T) {
			real := simplejwt.Start(t, simplejwt.Options{Rotate: rotate, Blacklist: rotate})
			access, refresh := real.Pair(t)
			want := scenario(t, real.URL, access, refresh)

			fake := wrappertest.NewServer(wrappertest.Options{Rotate: rotate, Blacklist: rotate, AccessLifetime: 5 * time.Minute})
			t.Cleanup(fake.Close)
			access, refresh = fake.IssuePair(1)
			got := scenario(t, fake.URL, access, refresh)

			require.Len(t, got, len(want))
			for i := range want {
				assert.Equal(t, want[i], got[i], "step %q", want[i].Step)
			}
		})
	}
}

// decodeClaims returns a JWT's claims, read without verifying it.
func decodeClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// describeClaims reduces a token's claims to what must match between
// servers: the names, token_type and user_id as they are, jti's shape, and
// iat and exp relative to the login (loginIat) and to now.
func describeClaims(t *testing.T, token string, loginIat int64, now time.Time) map[string]any {
	t.Helper()
	c := decodeClaims(t, token)
	about := func(v any, base int64) string {
		n, ok := v.(float64)
		require.True(t, ok, "a NumericDate: %v", v)
		d := int64(n) - base
		switch {
		case d >= -2 && d <= 2:
			return "≈ 0"
		default:
			return fmt.Sprintf("%+d min", int64(math.Round(float64(d)/60)))
		}
	}
	out := map[string]any{}
	for k, v := range c {
		switch k {
		case "jti":
			s, _ := v.(string)
			out[k] = fmt.Sprintf("%d hex digits: %t", len(s), regexp.MustCompile(`^[0-9a-f]+$`).MatchString(s))
		case "iat":
			out["iat - login"] = about(v, loginIat)
			out["iat - now"] = about(v, now.Unix())
		case "exp":
			out["exp - now"] = about(v, now.Unix())
		default:
			out[k] = v
		}
	}
	return out
}

// refreshClaims refreshes a pair issued ten minutes before now at baseURL,
// and describes the claims of what the refresh returned.
func refreshClaims(t *testing.T, baseURL, refresh string) map[string]any {
	t.Helper()
	loginIat := int64(decodeClaims(t, refresh)["iat"].(float64))
	resp, err := http.Post(baseURL+wrappertest.RefreshRoute, "application/json", strings.NewReader(`{"refresh":"`+refresh+`"}`))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var body map[string]string
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	now := time.Now()
	out := map[string]any{"access": describeClaims(t, body["access"], loginIat, now)}
	if r, ok := body["refresh"]; ok {
		out["refresh"] = describeClaims(t, r, loginIat, now)
	}
	return out
}

// TestDifferentialClaims compares the claims of refreshed tokens, decoded,
// between the fake and a real SimpleJWT server, for a login ten minutes old:
// the refreshed access token keeps the login's iat, and a rotated refresh
// token gets a new one.
func TestDifferentialClaims(t *testing.T) {
	const age = 10 * time.Minute
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "rotation off", true: "rotation and blacklist"}[rotate]
		t.Run(name, func(t *testing.T) {
			real := simplejwt.Start(t, simplejwt.Options{Rotate: rotate, Blacklist: rotate})
			_, refresh := real.PairIssuedAgo(t, age)
			want := refreshClaims(t, real.URL, refresh)

			fake := wrappertest.NewServer(wrappertest.Options{Rotate: rotate, Blacklist: rotate, AccessLifetime: 5 * time.Minute})
			t.Cleanup(fake.Close)
			_, refresh = fake.IssuePairAt(1, time.Now().Add(-age))
			got := refreshClaims(t, fake.URL, refresh)

			assert.Equal(t, want, got)
			assert.Equal(t, "≈ 0", want["access"].(map[string]any)["iat - login"], "the access token copies the login's iat")
		})
	}
}
