package wrapper

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
)

// schemaResponse has the shape of a generated response for an operation
// that documents JSON and YAML answers, as drf-spectacular's schema view
// does.
type schemaResponse struct {
	Body         []byte
	HTTPResponse *http.Response
	JSON200      *map[string]any
}

func (r *schemaResponse) StatusCode() int { return r.HTTPResponse.StatusCode }
func (r *schemaResponse) GetBody() []byte { return r.Body }

// TestOKTakesADocumentedAnswerThatIsNotJSON: a 2xx in a content type the
// spec documents for the operation is the answer, in Body; one it does not
// document, such as a proxy's HTML page, is malformed.
func TestOKTakesADocumentedAnswerThatIsNotJSON(t *testing.T) {
	withRoutes(t, append([]api.Operation{{Method: "GET", Path: "/api/schema/", Auth: api.AuthOptional,
		Media: []string{"application/vnd.oai.openapi"}}}, fullerSpec...))
	answer := func(path, contentType string) *schemaResponse {
		u, _ := url.Parse("https://api.example.com/prefix" + path)
		return &schemaResponse{Body: []byte("openapi: 3.0.3\n"), HTTPResponse: &http.Response{
			StatusCode: 200, Header: http.Header{"Content-Type": {contentType}},
			Request: &http.Request{Method: http.MethodGet, URL: u},
		}}
	}
	resp, err := OK(answer("/api/schema/", "application/vnd.oai.openapi; charset=utf-8"), nil)
	require.NoError(t, err)
	assert.Equal(t, "openapi: 3.0.3\n", string(resp.Body))

	_, err = OK(answer("/api/schema/", "text/html"), nil)
	assert.ErrorIs(t, err, ErrMalformedResponse, "not documented")
	_, err = OK(answer("/api/v1/me/", "application/vnd.oai.openapi"), nil)
	assert.ErrorIs(t, err, ErrMalformedResponse, "documented for another operation only")
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json": true, "application/json; charset=utf-8": true, " Application/JSON ": true,
		"application/problem+json": true, "application/vnd.api+json;q=1": true,
		"text/html": false, "text/plain": false, "": false, "application/jsonx": false, "text/json+xml": false,
	} {
		if got := isJSON(ct); got != want {
			t.Errorf("isJSON(%q) = %t; want %t", ct, got, want)
		}
	}
}
