package wrapper_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func ExampleNew() {
	// Production is the default; AISQUARE_BASE_URL or WithBaseURL change it.
	c, err := wrapper.New(wrapper.WithBaseURL("https://stg-api.aisquare.studio/"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.BaseURL())
	// Output: https://stg-api.aisquare.studio
}

func ExampleClient_RefreshToken() {
	// A stand-in for the API that rotates refresh tokens.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access":"new-access-token","refresh":"new-refresh-token"}`)
	}))
	defer srv.Close()

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	tok, err := c.RefreshToken(context.Background(), "old-refresh-token")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access:", tok.Access)
	if tok.Refresh != "" {
		// The old refresh token is spent: keep the new one.
		fmt.Println("rotated:", tok.Refresh)
	}
	// Output:
	// access: new-access-token
	// rotated: new-refresh-token
}

func ExampleAPIError() {
	// A stand-in for the API that rejects the token, as SimpleJWT does.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"detail":"Token is blacklisted","code":"token_not_valid"}`)
	}))
	defer srv.Close()

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.HTTPClient().Get(c.BaseURL() + "/api/v1/me/")
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	err = wrapper.CheckResponse(resp, body)

	if errors.Is(err, wrapper.ErrInvalidToken) {
		fmt.Println("log in again")
	}
	var apiErr *wrapper.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Detail)
	}
	fmt.Println(err)
	// Output:
	// log in again
	// 401 token_not_valid Token is blacklisted
	// wrapper: GET /api/v1/me/: 401 Unauthorized: Token is blacklisted (token_not_valid)
}
