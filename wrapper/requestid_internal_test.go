package wrapper

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRequestID(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{"X-Request-ID, canonical", http.Header{"X-Request-Id": {"abc-1"}}, "abc-1"},
		{"X-Request-ID, as sent", http.Header{"X-Request-ID": {"abc-2"}}, "abc-2"},
		{"Request-Id", http.Header{"Request-Id": {"abc-3"}}, "abc-3"},
		{"X-Request-ID first", http.Header{"X-Request-Id": {"x"}, "Request-Id": {"y"}}, "x"},
		{"none", http.Header{}, ""},
		{"control characters", http.Header{"X-Request-Id": {"a\nb\x1bc"}}, "a_b_c"},
		{"too long", http.Header{"X-Request-Id": {strings.Repeat("z", 500)}}, strings.Repeat("z", maxRequestID)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, requestID(tc.header, nil))
		})
	}
}
