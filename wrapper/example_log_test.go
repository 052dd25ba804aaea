package wrapper_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func ExampleWithLogger() {
	// A stand-in for the API: busy once, then a rejected token.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-ID", fmt.Sprintf("req-%d", calls.Add(1)))
		if calls.Load() == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"detail":"Token is invalid or expired","code":"token_not_valid"}`)
	}))
	defer srv.Close()

	// Text on stdout, without the fields that change from run to run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			switch a.Key {
			case slog.TimeKey, "duration", "retry_in":
				return slog.Attr{}
			}
			return a
		},
	}))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithLogger(logger))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.HTTPClient().Get(c.BaseURL() + "/api/v1/me/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var apiErr *wrapper.APIError
	if errors.As(wrapper.CheckResponse(resp, body), &apiErr) {
		fmt.Println("request ID for support:", apiErr.RequestID)
	}
	// Output:
	// level=DEBUG msg="aisquare: request attempt" method=GET path=/api/v1/me/ attempt=1 status=503 token=false request_id=req-1
	// level=DEBUG msg="aisquare: request attempt" method=GET path=/api/v1/me/ attempt=2 status=401 token=false request_id=req-2
	// request ID for support: req-2
}
