package wrapper

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// The seeds of these targets run in every go test; make fuzz runs each for
// a while. Every input must end in a value or an error, never a panic.

func FuzzCheckResponse(f *testing.F) {
	for _, seed := range []string{
		`{"detail":"Token is blacklisted","code":"token_not_valid"}`,
		`{"refresh":["This field may not be blank."]}`,
		`{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken"}]}`,
		`["Invalid input."]`, `{"detail":["a","b"]}`, `{"x":1}`, `null`, `<html>502</html>`, ``, `{`, "\xff",
	} {
		f.Add(seed, 400)
	}
	f.Fuzz(func(t *testing.T, body string, status int) {
		status = 300 + abs(status)%300
		err := CheckResponse(&http.Response{StatusCode: status, Header: http.Header{}}, []byte(body))
		apiErr, ok := err.(*APIError)
		if !ok {
			t.Fatalf("status %d: got %T, want *APIError", status, err)
		}
		msg := apiErr.Error()
		if !strings.HasPrefix(msg, "wrapper: ") {
			t.Fatalf("message %q does not start with the package name", msg)
		}
		if strings.ContainsAny(msg, "\n\r\x1b\x00") || len(msg) > maxErrorMessage {
			t.Fatalf("message %q has control characters, or is over the cap", msg)
		}
		if len(apiErr.Body) > maxErrorBody {
			t.Fatalf("Body is %d bytes, over the cap", len(apiErr.Body))
		}
	})
}

func FuzzTokenExpiry(f *testing.F) {
	for _, seed := range []string{
		"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzk1OTYxNDY3LCJpYXQiOjE3OTU5NjExNjcsImp0aSI6ImVmMGNmZTI0MGI1YzRjYzNhMTcwNjc5YWZhOWJmYWU0IiwidXNlcl9pZCI6MX0.m_BuEAVrSmwFP_Ws2rOZOS3D5FoKafY5nmJfzxNsM-k",
		"a.eyJleHAiOjEuNX0.c", "a.eyJleHAiOiJ4In0.c", "a.e30.c", "a.bnVsbA.c", "a.!!.c", "garbage", "", "..", "a.eyJleHAiOjFlMzAwfQ.c",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		exp, err := TokenExpiry(token)
		if err == nil && exp.IsZero() {
			t.Fatal("no error and no expiry")
		}
		if err != nil && len(token) >= 16 && strings.Contains(err.Error(), token) {
			t.Fatalf("error %q contains the token", err)
		}
	})
}

func FuzzParseBaseURL(f *testing.F) {
	for _, seed := range []string{
		"https://api.aisquare.studio", "https://api.aisquare.studio/", "https://host/prefix//", "http://127.0.0.1:8000",
		"ftp://x", "https://", "http://a b", "https://u:p@h", "https://h?q", "https://h#f", "//h", "%zz", "https://h/%2F/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		u, err := parseBaseURL(raw)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wrapper: invalid base URL") {
				t.Fatalf("error %q", err)
			}
			return
		}
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") || strings.HasSuffix(u, "/") {
			t.Fatalf("parseBaseURL(%q) = %q", raw, u)
		}
		again, err := parseBaseURL(u)
		if err != nil || again != u {
			t.Fatalf("parseBaseURL(%q) = %q, %v; want %q", u, again, err, u)
		}
	})
}

func FuzzFileStoreLoad(f *testing.F) {
	for _, seed := range []string{`{"access":"a","refresh":"r"}`, `{"access":"a","refresh":"r","base_url":"https://x"}`, `{"refresh":"r","base_url":7}`, `{"refresh":"r"}`, `{"access":"a"}`, `{}`, `[]`, `null`, ``, `{"refresh":1}`, "\x00"} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "tokens.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		tok, err := NewFileStore(path).Load(context.Background())
		switch {
		case err != nil:
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		case tok == nil || tok.RefreshToken == "":
			t.Fatalf("no error and no refresh token: %+v", tok)
		}
	})
}
