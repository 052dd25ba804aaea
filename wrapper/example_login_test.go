package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// signIn logs in with SimpleJWT's obtain view, POST /api/v1/token/, which
// answers a new access and refresh token for a username and password. The
// spec does not list the view (the backend's token views take their
// credentials in the body), so the call goes through the client's HTTP
// client, which sends it without a token.
func signIn(ctx context.Context, c *wrapper.Client, username, password string) (access, refresh string, err error) {
	body, err := json.Marshal(map[string]string{"username": username, "password": password})
	if err != nil {
		return "", "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL()+"/api/v1/token/", bytes.NewReader(body))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return "", "", err
	}
	if err := wrapper.CheckResponse(resp, buf.Bytes()); err != nil {
		return "", "", err // a wrong password is a 401 "No active account found with the given credentials"
	}
	var pair struct{ Access, Refresh string }
	if err := json.Unmarshal(buf.Bytes(), &pair); err != nil {
		return "", "", fmt.Errorf("login answer: %w", err)
	}
	return pair.Access, pair.Refresh, nil
}

// ExampleWithLogin signs in when the session has no tokens, or when its
// refresh token is rejected: once for all the calls waiting at that
// moment, and the pair goes to the store.
func ExampleWithLogin() {
	var c *wrapper.Client
	c, err := wrapper.New(
		wrapper.WithBaseURL("https://api.aisquare.studio"),
		wrapper.WithTokenStore(wrapper.NewFileStore("session.json")),
		wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
			return signIn(ctx, c, os.Getenv("STUDIO_USER"), os.Getenv("STUDIO_PASSWORD"))
		}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	resp, err := c.HTTPClient().Get(c.BaseURL() + "/api/v1/me/") // signs in first if need be
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.Status)
}
