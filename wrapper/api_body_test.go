package wrapper_test

import (
	"io"
	"net/http"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func apiRefreshBody(refresh string) api.RefreshCreateJSONRequestBody {
	return api.RefreshCreateJSONRequestBody{Refresh: refresh}
}

func stringReader(s string) io.Reader { return strings.NewReader(s) }

// decodeForTest reads a raw response and maps it like every other.
func decodeForTest(resp *http.Response) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return wrapper.CheckResponse(resp, body)
}
