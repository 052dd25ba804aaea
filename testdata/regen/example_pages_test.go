package wrapper_test

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// Log in, then list every project, following the pages.
func ExamplePages() {
	ctx := context.Background()
	baseURL := os.Getenv("AISQUARE_REGEN_BACKEND") // a server with the fuller spec's API

	anon, err := wrapper.New(wrapper.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}
	login, err := wrapper.OK(anon.API().TokenCreateWithResponse(ctx, api.TokenObtainPairRequest{Username: "alice", Password: "alice-password"}))
	if err != nil {
		log.Fatal(err)
	}

	c, err := wrapper.New(wrapper.WithBaseURL(baseURL), wrapper.WithTokens(login.JSON200.Access, login.JSON200.Refresh))
	if err != nil {
		log.Fatal(err)
	}
	for p, err := range wrapper.Pages[api.Project](ctx, c, func(ctx context.Context) (*api.ProjectsListResponse, error) {
		return c.API().ProjectsListWithResponse(ctx, nil)
	}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(p.Id, p.Name)
	}
	// Output:
	// 1 project 1
	// 2 project 2
	// 3 project 3
	// 4 project 4
	// 5 project 5
}
