package redact_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

func TestText(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"plain text stays", "Token is blacklisted", nil, "Token is blacklisted"},
		{"a JWT", "{'refresh': '" + jwt + "'}", nil, "{'refresh': '[REDACTED]'}"},
		{"a JWT cut short", "got " + jwt[:60], nil, "got [REDACTED]"},
		{"a bearer credential", "credentials Bearer opaque-token-1234567890", nil, "credentials Bearer [REDACTED]"},
		{"the request's own token", "echo: my-opaque-refresh-token!", []string{"my-opaque-refresh-token"}, "echo: [REDACTED]!"},
		{"a short secret is left", "the word order", []string{"order"}, "the word order"},
		{"line breaks", "one\ntwo\r\nthree\tfour", nil, "one two  three four"},
		{"terminal escapes", "red \x1b[31mtext\x1b[0m\x07", nil, "red [31mtext[0m"},
		{"bidi override", "abc\u202edef", nil, "abcdef"},
		{"invalid UTF-8", "a\xffb", nil, "a\uFFFDb"},
		{"a token split by control characters", "eyJhbGciOiJIUzI1\x00NiJ9.eyJzdWIiOiIx\nfQ.sig", nil, "[REDACTED]"},
		{"ordinary dotted names stay", "see api.aisquare.studio and v1.2.3", nil, "see api.aisquare.studio and v1.2.3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redact.Text(tc.in, 0, tc.secrets...)
			if tc.name == "a token split by control characters" {
				assert.NotContains(t, got, "eyJhbGci")
				return
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTextIsBounded(t *testing.T) {
	got := redact.Text(strings.Repeat("é\n", 1<<20), 100)
	assert.LessOrEqual(t, len(got), 100)
	assert.True(t, strings.HasSuffix(got, "…"))
	assert.NotContains(t, got, "\n")
	assert.Equal(t, "short", redact.Cut("short", 100))
}

func TestBytes(t *testing.T) {
	clean := []byte(`{"detail":"x"}`)
	assert.Same(t, &clean[0], &redact.Bytes(clean, "some-secret-value")[0], "nothing to replace: no copy")
	got := redact.Bytes([]byte(`{"refresh":["`+jwt+`"],"x":"some-secret-value"}`), "some-secret-value")
	assert.Equal(t, `{"refresh":["[REDACTED]"],"x":"[REDACTED]"}`, string(got))
}

func FuzzText(f *testing.F) {
	for _, seed := range []string{"", "plain", jwt, "a\nb\x1b[0m", "Bearer " + strings.Repeat("x", 20), "\xff\xfe", "e" + strings.Repeat("y", 40) + ".." + jwt} {
		f.Add(seed, "some-secret-token", 64)
	}
	f.Fuzz(func(t *testing.T, s, secret string, limit int) {
		limit = 1 + abs(limit)%512
		got := redact.Text(s, limit, secret)
		if len(got) > limit && len(got) > len("…") {
			t.Fatalf("len %d over limit %d", len(got), limit)
		}
		if strings.ContainsAny(got, "\n\r\t\x00\x1b\x7f") {
			t.Fatalf("control characters in %q", got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		// A secret with brackets could be spelled by a placeholder and its
		// neighbours; no token has them.
		if len(secret) >= 8 && !strings.ContainsAny(secret, "[]") && strings.Contains(redact.Text(s, 0, secret), secret) {
			t.Fatalf("secret %q left in %q", secret, got)
		}
	})
}

// TestAISquareTokens: AISquare's own access tokens, which are not JWTs, are
// redacted wherever they appear.
func TestAISquareTokens(t *testing.T) {
	const tok = "aisq_Zx9KqP3mN7vB2wR5tY8uI1oL4aS6dF0gH3jK5lQ7e"
	for _, s := range []string{
		`unexpected argument "` + tok + `"`,
		`invalid value "` + tok + `" for flag -timeout`,
		tok,
	} {
		got := redact.Text(s, 0)
		assert.NotContains(t, got, tok[5:], s)
		assert.Contains(t, got, redact.Placeholder)
		assert.NotContains(t, string(redact.Bytes([]byte(s))), tok[5:])
	}
	assert.Equal(t, "aisq_short", redact.Text("aisq_short", 0), "too short to be one")
}
