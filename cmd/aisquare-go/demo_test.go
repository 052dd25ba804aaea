package main_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDemo(t *testing.T) {
	r := aisquareGo(t, nil, "", "demo")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stderr)
	for _, want := range []string{"1. Refresh", "2. Rotation", "3. A reused refresh token", "Token is blacklisted",
		"4. A session that renews its own token", "200 OK", "done"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "tokens are shown shortened")
}
