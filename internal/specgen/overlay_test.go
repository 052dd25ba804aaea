package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRequiredNeverDuplicated: the overlay defines the SDK's schemas over
// the spec's, rather than appending to their required lists.
func TestRequiredNeverDuplicated(t *testing.T) {
	for s, overlay := range map[string]string{liveSpec: liveOverlay, fullerSpec: sdkOverlay(t)} {
		g, err := prepare(s, overlay)
		require.NoError(t, err)
		for name, ref := range g.doc.Components.Schemas {
			seen := map[string]bool{}
			for _, r := range ref.Value.Required {
				assert.False(t, seen[r], "%s: schema %s lists %q twice in required", s, name, r)
				seen[r] = true
			}
		}
		tr := g.doc.Components.Schemas["TokenRefresh"].Value
		assert.Equal(t, []string{"access"}, tr.Required, s)
		assert.Len(t, tr.Properties, 2, s)
	}
}

// TestServersAreOurs: a spec's own server described as Production takes
// neither the name nor the place of the SDK's.
func TestServersAreOurs(t *testing.T) {
	text := readFile(t, spec(t, "", "", ""))
	s := writeFile(t, "openapi.yaml", strings.Replace(text, "paths:", `servers:
- url: http://localhost:3000/
  description: Production
- url: https://staging.example.com/
  description: Staging
paths:`, 1))
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.client, `const ServerUrlProduction = "https://api.aisquare.studio"`)
	hasNot(t, g.client, "localhost")
	hasNot(t, g.client, "ServerUrlStaging")
}

// TestStaleActionNamesItsReasonAndRemedy: an action of the user's that
// matches nothing stops generation, with its reason and what to do.
func TestStaleActionNamesItsReasonAndRemedy(t *testing.T) {
	overlay := overlayWith(t, `  - target: $.components.schemas.Project.properties
    description: >-
      The backend sends a project's name
      always.
    update:
      name: {type: string}
`)
	s := spec(t, "", "", "")
	_, err := generate(t, s, overlay)
	var stale *staleActionError
	require.ErrorAs(t, err, &stale)
	line := lineOf(t, overlay, "- target: $.components.schemas.Project.properties")
	n := actions(t, overlay)
	assert.Equal(t, fmt.Sprintf(`specgen: %s:%d: action %d of %d (update) matches nothing in %s
  target: $.components.schemas.Project.properties
  reason: The backend sends a project's name always.
  what to do: if %s now has this right by itself (upstream fixed the defect),
    delete the action; if upstream renamed or moved what it corrects, point
    the target at the new place. Then run make generate again.`, overlay, line, n, n, s, s), err.Error())
}

// TestRemoveOfNothingIsNoError: a spec without servers and without the
// SDK's error schemas has nothing for the overlay's removes, nor for one
// more.
func TestRemoveOfNothingIsNoError(t *testing.T) {
	overlay := overlayWith(t, `  - target: $.components.schemas.NotInTheSpec
    description: Nothing to remove.
    remove: true
`)
	g, err := generate(t, spec(t, "", "", ""), overlay)
	require.NoError(t, err)
	assert.Empty(t, g.stderr)
}
