package wrapper_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// The session's token goes only to requests for the client's base URL. A
// download link on another host is fetched through the same HTTP client
// without it.
func ExampleClient_HTTPClient() {
	srv := wrappertest.NewServer(wrappertest.Options{})
	defer srv.Close()
	access, refresh := srv.IssuePair(42)
	downloads := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("download host: Authorization %q\n", r.Header.Get("Authorization"))
	}))
	defer downloads.Close()

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh))
	if err != nil {
		log.Fatal(err)
	}
	for _, url := range []string{srv.URL + wrappertest.MeRoute, downloads.URL + "/file.bin"} {
		resp, err := c.HTTPClient().Get(url)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 200 OK
	// download host: Authorization ""
	// 200 OK
}

// A file store records the API its tokens belong to: a client for another
// API fails before it sends anything.
func ExampleErrStoreMismatch() {
	dir, err := os.MkdirTemp("", "aisquare")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	store := filepath.Join(dir, "session", "tokens.json")

	_, err = wrapper.New(wrapper.WithBaseURL("https://api.aisquare.studio"),
		wrapper.WithTokens("", "a-refresh-token"), wrapper.WithTokenStore(wrapper.NewFileStore(store)))
	if err != nil {
		log.Fatal(err)
	}
	_, err = wrapper.New(wrapper.WithBaseURL("https://stg-api.aisquare.studio"),
		wrapper.WithTokenStore(wrapper.NewFileStore(store)))
	fmt.Println(errors.Is(err, wrapper.ErrStoreMismatch))
	// Output:
	// true
}
