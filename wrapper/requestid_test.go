package wrapper_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func TestAPIErrorRequestID(t *testing.T) {
	tests := []struct {
		name, header, id string
		want             string // in Error()
	}{
		{"X-Request-ID", "X-Request-ID", "5f1c-77", "[request ID 5f1c-77]"},
		{"x-request-id", "x-request-id", "a1", "[request ID a1]"},
		{"Request-Id", "Request-Id", "r-9", "[request ID r-9]"},
		{"none", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.header != "" {
					w.Header()[tc.header] = []string{tc.id} // as the server spells it
				}
				reply(401, "application/json", `{"detail":"Token is invalid or expired","code":"token_not_valid"}`)(w, r)
			})
			_, err := c.RefreshToken(context.Background(), secret)
			var apiErr *wrapper.APIError
			require.True(t, errors.As(err, &apiErr))
			assert.Equal(t, tc.id, apiErr.RequestID)
			if tc.want == "" {
				assert.NotContains(t, err.Error(), "request ID")
				return
			}
			assert.Equal(t, "wrapper: POST "+api.RefreshPath+": 401 Unauthorized: Token is invalid or expired (token_not_valid) "+tc.want, err.Error())
		})
	}
}
