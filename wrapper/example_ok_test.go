package wrapper_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// A generated call and its check, in one expression: resp is a 2xx whose
// JSON200 is set, or err says why not.
func ExampleOK() {
	srv := wrappertest.NewServer(wrappertest.Options{})
	defer srv.Close()
	_, refresh := srv.IssuePair(42)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	resp, err := wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("access token:", resp.JSON200.Access != "")

	_, err = wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: "not-a-token"}))
	var apiErr *wrapper.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code, errors.Is(err, wrapper.ErrInvalidToken))
	}
	// Output:
	// access token: true
	// 401 token_not_valid true
}
