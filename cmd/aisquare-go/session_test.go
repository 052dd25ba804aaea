package main_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSessionUnknownSubcommand(t *testing.T) {
	r := aisquareGo(t, nil, "", "session", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown subcommand "list"`)
	assert.Contains(t, r.stderr, "Usage: aisquare-go session <subcommand>")
}
