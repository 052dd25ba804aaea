package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestContractIsKept: an overlay that no longer defines what the wrapper
// relies on stops generation.
func TestContractIsKept(t *testing.T) {
	overlay := editedOverlay(t, "          TokenRefresh:\n            type: object\n            title: TokenRefresh\n            properties:\n              access:\n                type: string\n",
		"          TokenRefresh:\n            type: object\n            title: TokenRefresh\n            properties:\n              access:\n                type: integer\n")
	_, err := generate(t, spec(t, "", "", ""), overlay)
	require.Error(t, err)
	assert.Equal(t, "specgen: the generated client lacks what the wrapper relies on: TokenRefresh.Access is not a string. "+
		overlay+" defines these (schemas TokenRefreshRequest and TokenRefresh, and the refresh action's operationId "+
		"refresh-create): restore its actions", err.Error())
}
