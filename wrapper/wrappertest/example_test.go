package wrappertest_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// In a test of your own, start the server, point a client at it, and call
// t.Cleanup(srv.Close).
func Example() {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	defer srv.Close()

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		log.Fatal(err)
	}
	_, refresh := srv.IssuePair(42)

	tok, err := c.RefreshToken(context.Background(), refresh)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("rotated:", tok.Refresh != "" && tok.Refresh != refresh)

	// The old refresh token is blacklisted now.
	_, err = c.RefreshToken(context.Background(), refresh)
	fmt.Println("log in again:", errors.Is(err, wrapper.ErrInvalidToken))

	// Faults: the next refresh gets a proxy's 502.
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 502, ContentType: "text/html", Body: "<h1>502</h1>"})
	_, err = c.RefreshToken(context.Background(), tok.Refresh)
	fmt.Println("server error:", errors.Is(err, wrapper.ErrServer))
	fmt.Println("refresh requests:", srv.Requests(wrappertest.RefreshRoute))
	// Output:
	// rotated: true
	// log in again: true
	// server error: true
	// refresh requests: 3
}
