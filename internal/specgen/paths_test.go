package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// suggestedAction returns the overlay action a message suggests: its lines
// from "- target:" on, as indented in the message.
func suggestedAction(t *testing.T, msg string) string {
	t.Helper()
	_, action, ok := strings.Cut(msg, "\n  - target: ")
	require.True(t, ok, "the message suggests an action: %s", msg)
	return "  - target: " + action + "\n"
}

// TestPathParameterTwice: nested routes that render {id} twice stop
// generation, naming the operations and the action that leaves the path
// out; with that action, generation passes.
func TestPathParameterTwice(t *testing.T) {
	s := spec(t, `  /automation/workflows/{id}/edges/{id}/:
    get:
      operationId: automation_workflows_edges_retrieve
      parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {'200': {description: ok}}
    delete:
      operationId: automation_workflows_edges_destroy
      parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
      responses: {'204': {description: gone}}
`, "", "")
	_, err := generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+s+` has paths the generated client cannot call:
  DELETE, GET /automation/workflows/{id}/edges/{id}/ (automation_workflows_edges_destroy, automation_workflows_edges_retrieve) names the path parameter {id} twice, as a nested route can render it: the generated client would fill only the first, and its code would not vet. Give the parameters distinct names in the backend's route (such as <int:workflow_id>; drf-nested-routers' lookup="workflow" gives {workflow_pk}) and render the spec again, or leave the path out of the client with this action in overlay.yaml:
  - target: $.paths['/automation/workflows/{id}/edges/{id}/']
    description: The path names {id} twice; the client cannot call it.
    remove: true`, err.Error())

	g, err := generate(t, s, overlayWith(t, suggestedAction(t, err.Error())))
	require.NoError(t, err)
	hasNot(t, g.security, "/automation/")
	hasNot(t, g.client, "Automation")
}

// TestUndeclaredPathParameter: the message names the operation and the
// action that declares the parameter; with it, the client takes it.
func TestUndeclaredPathParameter(t *testing.T) {
	s := spec(t, `  /api/v1/things/{slug}/:
    get:
      operationId: things_retrieve
      responses: {'200': {description: ok}}
`, "", "")
	_, err := generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+s+` has paths the generated client cannot call:
  GET /api/v1/things/{slug}/ (things_retrieve) has the path parameter {slug} but does not declare it. Declare it with this action in overlay.yaml (with the type the backend takes):
  - target: $.paths['/api/v1/things/{slug}/'].get
    description: The spec does not declare the path parameter slug.
    update:
      parameters:
        - name: slug
          in: path
          required: true
          schema:
            type: string`, err.Error())

	g, err := generate(t, s, overlayWith(t, suggestedAction(t, err.Error())))
	require.NoError(t, err)
	has(t, g.client, "ThingsRetrieve(ctx context.Context, slug string, ")
}

// TestPathProblemsAreListed: every operation with a problem is named, up
// to ten.
func TestPathProblemsAreListed(t *testing.T) {
	var paths strings.Builder
	for i := range 12 {
		fmt.Fprintf(&paths, "  /api/v1/t%02d/{x}/:\n    get:\n      responses: {'200': {description: ok}}\n", i)
	}
	_, err := generate(t, spec(t, paths.String(), "", ""), sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, 10, strings.Count(err.Error(), "has the path parameter {x} but does not declare it"))
	assert.Contains(t, err.Error(), "GET /api/v1/t09/{x}/ has the path parameter")
	assert.True(t, strings.HasSuffix(err.Error(), "\n  ... and 2 more"), err.Error())
}

// TestPathParameterNotInThePath: a declared path parameter the template
// does not have is named, with the action that drops it.
func TestPathParameterNotInThePath(t *testing.T) {
	s := spec(t, `  /api/v1/things/{slug}/:
    get:
      operationId: things_retrieve
      parameters:
      - {name: slug, in: path, required: true, schema: {type: string}}
      - {name: extra, in: path, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
`, "", "")
	_, err := generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+s+` has paths the generated client cannot call:
  GET /api/v1/things/{slug}/ (things_retrieve) declares the path parameter extra, which the path does not have: the generator would refuse it. Drop the declaration with this action in overlay.yaml:
  - target: $.paths['/api/v1/things/{slug}/'].get.parameters[?(@.name=='extra')]
    description: The path has no parameter extra.
    remove: true`, err.Error())

	g, err := generate(t, s, overlayWith(t, suggestedAction(t, err.Error())))
	require.NoError(t, err)
	has(t, g.client, "ThingsRetrieve(ctx context.Context, slug string, ")
}
