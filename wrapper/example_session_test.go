package wrapper_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// A session keeps the access token valid by itself, and keeps rotated
// refresh tokens in a file.
func ExampleWithTokens() {
	// A local server whose access tokens live two seconds, with rotation.
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	defer srv.Close()
	access, refresh := srv.IssuePair(42) // what a login gives you

	dir, err := os.MkdirTemp("", "aisquare")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	c, err := wrapper.New(
		wrapper.WithBaseURL(srv.URL),
		wrapper.WithTokens(access, refresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(filepath.Join(dir, "tokens.json"))),
	)
	if err != nil {
		log.Fatal(err)
	}

	// Any request through c.HTTPClient() or c.API() carries a valid token.
	for range 3 {
		resp, err := c.HTTPClient().Get(srv.URL + wrappertest.MeRoute)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
		time.Sleep(1500 * time.Millisecond) // past the token's refresh point
	}
	tok, err := c.TokenSource().Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token renewed:", tok.AccessToken != access)
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// token renewed: true
}

// WithOnRefresh reports every refresh attempt, for logs and metrics; the
// event never carries a token. Here a clock steps the token into its
// refresh window: the caller gets the stale token at once, and the refresh
// runs in the background.
func ExampleWithOnRefresh() {
	now := time.Now()
	clock := func() time.Time { return now }
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: 10 * time.Minute, Now: clock})
	defer srv.Close()
	access, refresh := srv.IssuePair(42)

	events := make(chan wrapper.RefreshEvent, 1)
	c, err := wrapper.New(
		wrapper.WithBaseURL(srv.URL),
		wrapper.WithTokens(access, refresh),
		wrapper.WithClock(clock),
		wrapper.WithOnRefresh(func(ev wrapper.RefreshEvent) { events <- ev }),
	)
	if err != nil {
		log.Fatal(err)
	}

	now = now.Add(9*time.Minute + 45*time.Second) // stale: inside the last minute
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("stale token served at once:", tok == access)

	ev := <-events
	fmt.Println("background:", ev.Background, "rotated:", ev.Rotated, "error:", ev.Err)
	tok, _ = c.AccessToken(context.Background())
	fmt.Println("renewed:", tok != access)
	// Output:
	// stale token served at once: true
	// background: true rotated: true error: <nil>
	// renewed: true
}
