package redisstore_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/redis/go-redis/v9"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// Every replica of a service makes its client the same way: one Redis key
// holds the session they share. The first replica's tokens seed the key;
// the others load the pair from it.
func ExampleNew() {
	const baseURL = "https://api.aisquare.studio"
	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
	defer rdb.Close()

	store := redisstore.New(rdb, "aisquare:session")
	c, err := wrapper.New(
		wrapper.WithBaseURL(baseURL),
		wrapper.WithTokens("access-from-login", "refresh-from-login"),
		wrapper.WithTokenStore(store),
	)
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, baseURL+"/api/v1/me/", nil)
	if err != nil {
		log.Fatal(err)
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
