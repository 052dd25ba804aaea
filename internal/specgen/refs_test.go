package main

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefsOutsideTheSpec: a $ref to a URL or another file is refused,
// naming where it is, and nothing is fetched.
func TestRefsOutsideTheSpec(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	fetched := make(chan struct{}, 1)
	go func() {
		if c, err := l.Accept(); err == nil {
			fetched <- struct{}{}
			c.Close()
		}
	}()
	url := fmt.Sprintf("http://%s/schemas.yaml#/Project", l.Addr())
	s := spec(t, `  /api/v1/projects/:
    get:
      operationId: projects_list
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {$ref: '`+url+`'}
`, `    Run:
      type: object
      properties:
        project: {$ref: 'common.yaml#/components/schemas/Project'}
`, "")
	_, err = generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	line := lineOf(t, s, url)
	assert.Equal(t, fmt.Sprintf(`specgen: %[1]s refers outside itself; specgen reads references inside the spec only ("#/components/...") and never reads another file or fetches a URL:
  %[1]s:%[2]d: GET /api/v1/projects/ (projects_list) refers to %[3]s, outside the spec
  %[1]s:%[4]d: $.components.schemas.Run.properties.project refers to common.yaml#/components/schemas/Project, outside the spec
Put what they name into the spec, or replace each with an overlay action, and run make generate again.`,
		s, line, url, lineOf(t, s, "common.yaml")), err.Error())
	select {
	case <-fetched:
		t.Fatal("specgen fetched the URL")
	default:
	}
}

// TestRefToNothing: a $ref that resolves to nothing is named with the
// action that defines it; with that action, generation passes.
func TestRefToNothing(t *testing.T) {
	s := spec(t, `  /api/v1/projects/:
    post:
      operationId: projects_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/ProjectRequest'}
      responses: {'201': {description: created}}
`, "", "")
	_, err := generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf(`specgen: %[1]s refers to definitions it does not have:
  %[1]s:%[2]d: POST /api/v1/projects/ (projects_create) refers to #/components/schemas/ProjectRequest, which the spec does not define; define it, such as with this action in overlay.yaml:
  - target: $
    description: The spec refers to #/components/schemas/ProjectRequest but does not define it.
    update:
      components:
        schemas:
          ProjectRequest:
            type: object`, s, lineOf(t, s, "ProjectRequest")), err.Error())

	_, action, ok := strings.Cut(err.Error(), "\n  - target: ")
	require.True(t, ok)
	g, err := generate(t, s, overlayWith(t, "  - target: "+action+"\n"))
	require.NoError(t, err)
	has(t, g.client, "type ProjectsCreateJSONRequestBody = ProjectRequest")
}

func TestResolvePointer(t *testing.T) {
	s := writeFile(t, "openapi.yaml", `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /a/b:
    get: {responses: {'200': {description: ok}}}
components:
  schemas:
    "x~y": {type: string}
    list: {enum: [a, b]}
`)
	root, err := readSpec(s)
	require.NoError(t, err)
	doc := docNode(root)
	for ref, found := range map[string]bool{
		"#":                                true,
		"#/paths/~1a~1b/get":               true,
		"#/paths/%7E1a%7E1b/get":           true,
		"#/components/schemas/x~0y":        true,
		"#/components/schemas/list/enum/1": true,
		"#/components/schemas/list/enum/2": false,
		"#/components/schemas/nope":        false,
		"#components":                      false,
	} {
		assert.Equal(t, found, resolvePointer(doc, ref) != nil, ref)
	}
}
