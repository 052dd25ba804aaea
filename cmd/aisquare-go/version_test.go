package main_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Equal(t, "aisquare-go "+wrapper.Version+"\n", r.stdout, "%v", args)
	}
	// Help shows help, not the version.
	for _, args := range [][]string{{"version", "--help"}, {"version", "-h"}} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Equal(t, "Usage: aisquare-go version\n\nPrints the SDK's version, which its requests' User-Agent carries too.\n", r.stdout, "%v", args)
	}
	r := aisquareGo(t, nil, "", "version", "--short")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -short")
	assert.Empty(t, r.stdout)
}
