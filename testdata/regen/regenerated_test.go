package wrapper_test

// This file is compiled only in the regeneration test (regenerate_test.go at
// the root of the module): it is copied into wrapper/ of a scratch copy
// whose api/ is generated from testdata/backend/openapi.yaml, and drives
// the regenerated client against the backend of testdata/backend.

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/oapi-codegen/nullable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func TestRegeneratedClient(t *testing.T) {
	base := regenBackend(t)
	ctx := context.Background()
	rec := &regenRecorder{}
	hc := &http.Client{Transport: rec}

	// Log in through the obtain endpoint: no Authorization.
	anon, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(hc))
	require.NoError(t, err)
	login, err := wrapper.OK(anon.API().TokenCreateWithResponse(ctx, api.TokenObtainPairRequest{
		Username: "alice", Password: "alice-password", // required: plain values, though write-only
	}))
	require.NoError(t, err)
	require.NotEmpty(t, login.JSON200.Access)
	assert.Equal(t, []string{"POST /api/v1/token/ auth=false"}, rec.take())

	c, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(hc),
		wrapper.WithTokens(login.JSON200.Access, login.JSON200.Refresh))
	require.NoError(t, err)

	t.Run("wrong password is sent once, without the token", func(t *testing.T) {
		_, err := wrapper.OK(c.API().TokenCreateWithResponse(ctx, api.TokenObtainPairRequest{
			Username: "alice", Password: "wrong",
		}))
		require.ErrorIs(t, err, wrapper.ErrUnauthorized)
		assert.NotErrorIs(t, err, wrapper.ErrInvalidToken, "the session is fine")
		assert.Equal(t, []string{"POST /api/v1/token/ auth=false"}, rec.take())
	})

	t.Run("protected route", func(t *testing.T) {
		me, err := wrapper.OK(c.API().MeRetrieveWithResponse(ctx))
		require.NoError(t, err)
		var username string = me.JSON200.Username // required and read-only: a plain string
		assert.Equal(t, "alice", username)
		assert.Equal(t, []string{"GET /api/v1/me/ auth=true"}, rec.take())

		_, err = wrapper.OK(anon.API().MeRetrieveWithResponse(ctx))
		require.ErrorIs(t, err, wrapper.ErrUnauthorized)
		assert.NotErrorIs(t, err, wrapper.ErrInvalidToken)
		rec.take()
	})

	t.Run("a list, page by page", func(t *testing.T) {
		var ids []int
		for p, err := range wrapper.Pages[api.Project](ctx, c, func(ctx context.Context) (*api.ProjectsListResponse, error) {
			return c.API().ProjectsListWithResponse(ctx, nil)
		}) {
			require.NoError(t, err)
			var id int = p.Id // required and read-only: a plain int
			ids = append(ids, id)
		}
		assert.Len(t, ids, 5)
		assert.Equal(t, []string{
			"GET /api/v1/projects/ auth=true",
			"GET /api/v1/projects/ auth=true",
			"GET /api/v1/projects/ auth=true",
		}, rec.take())
	})

	t.Run("query parameters and enums", func(t *testing.T) {
		runs, err := wrapper.OK(c.API().RunsListWithResponse(ctx, &api.RunsListParams{
			Status: ptr(api.RunsListParamsStatusTimeout), Ordering: ptr("-created_at"),
		}))
		require.NoError(t, err)
		require.NotNil(t, runs.JSON200.Results)
		require.Len(t, *runs.JSON200.Results, 1)
		run := (*runs.JSON200.Results)[0]
		assert.Equal(t, api.StatusEnumTimeout, run.Status)
		assert.True(t, run.Score.IsNull(), "nullable: null")
		rec.take()
	})

	t.Run("a nullable field set to null", func(t *testing.T) {
		desc := nullable.NewNullableWithValue("the first one")
		p, err := wrapper.OK(c.API().ProjectsPartialUpdateWithResponse(ctx, 1, api.PatchedProjectRequest{Description: desc}))
		require.NoError(t, err)
		assert.Equal(t, "the first one", p.JSON200.Description.MustGet())

		p, err = wrapper.OK(c.API().ProjectsPartialUpdateWithResponse(ctx, 1, api.PatchedProjectRequest{Description: nullable.NewNullNullable[string]()}))
		require.NoError(t, err)
		assert.True(t, p.JSON200.Description.IsNull())
		assert.Equal(t, "project 1", p.JSON200.Name, "a field not sent is left as it was")
		rec.take()
	})

	t.Run("404", func(t *testing.T) {
		_, err := wrapper.OK(c.API().ProjectsRetrieveWithResponse(ctx, 999999))
		require.ErrorIs(t, err, wrapper.ErrNotFound)
		assert.Equal(t, []string{"GET /api/v1/projects/999999/ auth=true"}, rec.take())
	})

	t.Run("400 with field errors", func(t *testing.T) {
		_, err := wrapper.OK(c.API().ProjectsCreateWithResponse(ctx, api.ProjectRequest{Name: ""}))
		require.ErrorIs(t, err, wrapper.ErrBadRequest)
		var apiErr *wrapper.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, []string{"This field may not be blank."}, apiErr.Fields["name"])
		rec.take()
	})

	t.Run("upload", func(t *testing.T) {
		runs, err := wrapper.OK(c.API().RunsListWithResponse(ctx, nil))
		require.NoError(t, err)
		require.NotEmpty(t, *runs.JSON200.Results)
		runID := (*runs.JSON200.Results)[0].Id
		rec.take()

		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		require.NoError(t, w.WriteField("name", "model.bin"))
		part, err := w.CreateFormFile("file", "model.bin")
		require.NoError(t, err)
		content := bytes.Repeat([]byte("weights "), 1000)
		_, err = part.Write(content)
		require.NoError(t, err)
		require.NoError(t, w.Close())

		up, err := wrapper.OK(c.API().RunsArtifactsCreateWithBodyWithResponse(ctx, runID, w.FormDataContentType(), &body))
		require.NoError(t, err)
		assert.Equal(t, len(content), up.JSON201.Size)
		assert.Equal(t, "model.bin", up.JSON201.Name)
		assert.Equal(t, []string{fmt.Sprintf("POST /api/v1/runs/%s/artifacts/ auth=true", runID)}, rec.take())
	})

	t.Run("verify of a garbage token: one request, no refresh", func(t *testing.T) {
		_, err := wrapper.OK(c.API().TokenVerifyCreateWithResponse(ctx, api.TokenVerifyRequest{Token: "garbage"}))
		require.ErrorIs(t, err, wrapper.ErrUnauthorized)
		assert.NotErrorIs(t, err, wrapper.ErrInvalidToken, "the session is fine")
		assert.Equal(t, []string{"POST /api/v1/token/verify/ auth=false"}, rec.take())

		resp, err := c.HTTPClient().Post(base+"/api/v1/token/verify/", "application/json", strings.NewReader(`{"token":"garbage"}`))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		assert.Equal(t, []string{"POST /api/v1/token/verify/ auth=false"}, rec.take(), "through HTTPClient too")

		_, err = wrapper.OK(c.API().TokenVerifyCreateWithResponse(ctx, api.TokenVerifyRequest{Token: login.JSON200.Access}))
		require.NoError(t, err)
		rec.take()
	})

	t.Run("refresh", func(t *testing.T) {
		tok, err := c.RefreshToken(ctx, login.JSON200.Refresh)
		require.NoError(t, err)
		assert.NotEmpty(t, tok.Access)
		assert.Empty(t, tok.Refresh, "no rotation")
		assert.Equal(t, []string{"POST /api/v1/token/refresh/ auth=false"}, rec.take())

		_, err = c.RefreshToken(ctx, "garbage")
		require.ErrorIs(t, err, wrapper.ErrInvalidToken)
		rec.take()
	})

	t.Run("the session's own calls", func(t *testing.T) {
		resp, err := c.HTTPClient().Get(base + "/api/v1/me/")
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, []string{"GET /api/v1/me/ auth=true"}, rec.take())
	})
}
