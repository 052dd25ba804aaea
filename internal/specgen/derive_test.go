package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reused is a spec as drf-spectacular renders it without
// COMPONENT_SPLIT_REQUEST: one schema for request and response.
const reused = `  /api/v1/projects/:
    post:
      operationId: projects_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Project'}
          multipart/form-data:
            schema: {$ref: '#/components/schemas/Project'}
        required: true
      responses:
        '201':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Project'}
  /api/v1/projects/{id}/:
    patch:
      operationId: projects_partial_update
      parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/PatchedProject'}
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Project'}
  /api/v1/members/:
    post:
      operationId: members_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Member'}
      responses: {'201': {description: ''}}
  /api/v1/teams/:
    post:
      operationId: teams_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/Team'}
      responses: {'201': {description: ''}}
`

const reusedSchemas = `    Project:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string, maxLength: 100}
        secret: {type: string, writeOnly: true}
        hint: {type: string, writeOnly: true}
        description: {type: string, nullable: true}
        created_at: {type: string, format: date-time, readOnly: true}
      required: [created_at, id, name, secret]
    PatchedProject:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string, maxLength: 100}
        description: {type: string, nullable: true}
    Member:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        email: {type: string}
    MemberRequest:
      type: object
      properties:
        invite: {type: string}
    Team:
      allOf:
      - {$ref: '#/components/schemas/PatchedProject'}
      - type: object
        properties:
          size: {type: integer, readOnly: true}
`

// TestRequestTypes: a request body does not carry the read-only fields of
// a schema the spec reuses for the response; required write-only fields
// are plain values; nullable ones can be set to null.
func TestRequestTypes(t *testing.T) {
	s := spec(t, reused, reusedSchemas, "")
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.client,
		"type ProjectsCreateJSONRequestBody = ProjectRequest",
		"type ProjectsCreateMultipartRequestBody = ProjectRequest",
		"type ProjectsPartialUpdateJSONRequestBody = PatchedProjectRequest",
		"type ProjectRequest struct {\n"+
			"\tDescription nullable.Nullable[string] `json:\"description,omitempty\"`\n"+
			"\tHint        *string                   `json:\"hint,omitempty\"`\n"+
			"\tName        string                    `json:\"name\"`\n"+
			"\tSecret      string                    `json:\"secret\"`\n}",
		"type PatchedProjectRequest struct {\n"+
			"\tDescription nullable.Nullable[string] `json:\"description,omitempty\"`\n"+
			"\tName        *string                   `json:\"name,omitempty\"`\n}",
		// The response keeps them.
		"\tId          int                       `json:\"id\"`",
		"JSON201 *Project",
		// The spec's own MemberRequest is something else: Member is sent whole.
		"type MembersCreateJSONRequestBody = Member",
		"type TeamsCreateJSONRequestBody = Team",
	)
	assert.Equal(t, "specgen: "+s+": POST /api/v1/members/ sends schema Member, read-only properties included: "+
		"the spec has a schema MemberRequest already\n", g.stderr)
}

// TestRequestTypesOfTheFullerSpec: the backend's rendering splits request
// and response itself; nothing is added.
func TestRequestTypesOfTheFullerSpec(t *testing.T) {
	g, err := prepare(fullerSpec, sdkOverlay(t))
	require.NoError(t, err)
	before := len(g.doc.Components.Schemas)
	assert.Empty(t, splitRequests(fullerSpec, g.doc))
	assert.Len(t, g.doc.Components.Schemas, before)
	login := g.doc.Components.Schemas["LoginRequest"].Value
	assert.Equal(t, true, login.Properties["password"].Value.Extensions[extSkipPointer], "required and write-only")
	assert.Equal(t, false, login.Properties["password"].Value.Extensions[extOmitEmpty], "sent when empty")
}
