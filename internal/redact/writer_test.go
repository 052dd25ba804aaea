package redact_test

import (
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

var errFailed = errors.New("write failed")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errFailed }

func TestNewWriter(t *testing.T) {
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"plain text stays, line breaks too", "Usage:\n  -timeout duration\n", nil, "Usage:\n  -timeout duration\n"},
		{"a JWT", "invalid value \"" + jwt + "\" for flag -timeout\n", nil, "invalid value \"[REDACTED]\" for flag -timeout\n"},
		{"a secret", "got my-opaque-refresh-token\n", []string{"my-opaque-refresh-token"}, "got [REDACTED]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			n, err := redact.NewWriter(&b, tc.secrets...).Write([]byte(tc.in))
			require.NoError(t, err)
			assert.Equal(t, len(tc.in), n, "what it was given, written")
			assert.Equal(t, tc.want, b.String())
		})
	}
}

func TestNewWriterError(t *testing.T) {
	n, err := redact.NewWriter(failingWriter{}).Write([]byte("text"))
	assert.Equal(t, 0, n)
	require.ErrorIs(t, err, errFailed)
}

// TestNewWriterFlagSet: a flag set that writes through the writer never
// repeats a token given as a flag's value.
func TestNewWriterFlagSet(t *testing.T) {
	var b strings.Builder
	fs := flag.NewFlagSet("cmd", flag.ContinueOnError)
	fs.SetOutput(redact.NewWriter(&b))
	fs.Duration("timeout", 0, "how long")
	require.Error(t, fs.Parse([]string{"--timeout", jwt}))
	assert.NotContains(t, b.String(), jwt)
	assert.Contains(t, b.String(), `invalid value "[REDACTED]" for flag -timeout`)
	assert.Contains(t, b.String(), "how long", "the usage that follows")
}
