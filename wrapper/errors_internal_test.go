package wrapper

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
)

func TestInvalidTokenOnlyForTheSessionsTokens(t *testing.T) {
	tests := []struct {
		name         string
		ops          []api.Operation
		method, path string
		status       int
		code         string
		invalid      bool
	}{
		{"protected route", fullerSpec, "GET", "/api/v1/me/", 401, "token_not_valid", true},
		{"protected route under a prefix", fullerSpec, "GET", "/prefix/api/v1/projects/7/", 401, "token_not_valid", true},
		{"no credentials", fullerSpec, "GET", "/api/v1/me/", 401, "", false},
		{"refresh 401", fullerSpec, "POST", api.RefreshPath, 401, "token_not_valid", true},
		{"refresh 401 under a prefix", fullerSpec, "POST", "/prefix" + api.RefreshPath, 401, "token_not_valid", true},
		{"refresh 400", fullerSpec, "POST", api.RefreshPath, 400, "", true},
		{"verify of a bad token", fullerSpec, "POST", api.TokenPrefix + "verify/", 401, "token_not_valid", false},
		{"obtain with a wrong password", fullerSpec, "POST", api.TokenPrefix, 401, "no_active_account", false},
		{"verify, empty table", nil, "POST", api.TokenPrefix + "verify/", 401, "token_not_valid", false},
		{"protected, empty table", nil, "GET", "/api/v1/me/", 401, "token_not_valid", true},
		{"refresh, empty table", nil, "POST", api.RefreshPath, 401, "token_not_valid", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withRoutes(t, tc.ops)
			// As the backend sends them: JSON, and a 400 about the refresh field.
			err := &APIError{StatusCode: tc.status, Method: tc.method, Path: tc.path, Code: tc.code, ContentType: "application/json"}
			if tc.status == 400 {
				err.Fields = map[string][]string{"refresh": {"This field may not be blank."}}
			}
			assert.Equal(t, tc.invalid, err.Is(ErrInvalidToken), "Is(ErrInvalidToken)")
			if tc.status == 401 {
				require.ErrorIs(t, err, ErrUnauthorized)
			}
		})
	}
}
