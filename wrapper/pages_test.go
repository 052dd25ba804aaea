package wrapper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

type item struct {
	ID int `json:"id"`
}

// listResponse has the shape of a generated ...Response for a paginated
// list; the spec in this tree has none.
type listResponse struct {
	Body         []byte
	HTTPResponse *http.Response
	JSON200      *struct {
		Results []item `json:"results"`
	}
}

func (r listResponse) StatusCode() int { return r.HTTPResponse.StatusCode }
func (r listResponse) GetBody() []byte { return r.Body }

// drfList serves /api/v1/items/ as Django REST Framework's page-number
// pagination does, two items a page; next builds each page's "next" URL.
func drfList(t *testing.T, total int, next func(srvURL string, page int) string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var requests atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if !strings.HasSuffix(r.URL.Path, "/api/v1/items/") {
			http.NotFound(w, r)
			return
		}
		n, _ := strconv.Atoi(r.URL.Query().Get("page"))
		n = max(n, 1)
		body := map[string]any{"count": total, "next": nil, "previous": nil, "results": []item{}}
		var results []item
		for id := (n-1)*2 + 1; id <= min(n*2, total); id++ {
			results = append(results, item{ID: id})
		}
		body["results"] = results
		if n*2 < total {
			body["next"] = next(srv.URL, n+1)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv, &requests
}

func sameServer(srvURL string, page int) string {
	return fmt.Sprintf("%s/api/v1/items/?page=%d", srvURL, page)
}

// firstPage fetches the first page as a generated call would.
func firstPage(c *wrapper.Client) func(context.Context) (*listResponse, error) {
	return func(ctx context.Context) (*listResponse, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL()+"/api/v1/items/", nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		out := &listResponse{HTTPResponse: resp}
		if out.Body, err = io.ReadAll(resp.Body); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(out.Body, &out.JSON200); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func collect(t *testing.T, seq func(func(item, error) bool)) ([]int, error) {
	t.Helper()
	var ids []int
	for it, err := range seq {
		if err != nil {
			return ids, err
		}
		ids = append(ids, it.ID)
	}
	return ids, nil
}

type otherItem struct {
	Name string `json:"name"`
}

func TestPagesFollowsNextToTheEnd(t *testing.T) {
	srv, requests := drfList(t, 5, sameServer)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ids, err := collect(t, wrapper.Pages[item](context.Background(), c, firstPage(c)))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, ids)
	assert.Equal(t, int32(3), requests.Load())
}

func TestPagesFollowsARelativeNext(t *testing.T) {
	srv, requests := drfList(t, 5, func(_ string, page int) string { return fmt.Sprintf("?page=%d", page) })
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ids, err := collect(t, wrapper.Pages[item](context.Background(), c, firstPage(c)))
	require.NoError(t, err)
	assert.Equal(t, []int{1, 2, 3, 4, 5}, ids)
	assert.Equal(t, int32(3), requests.Load())
}

func TestPagesStopsWhenTheCallerStops(t *testing.T) {
	srv, requests := drfList(t, 9, sameServer)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	for it, err := range wrapper.Pages[item](context.Background(), c, firstPage(c)) {
		require.NoError(t, err)
		if it.ID == 3 {
			break
		}
	}
	assert.Equal(t, int32(2), requests.Load(), "no page is fetched after the caller stops")
}

func TestPagesStopsAtTheContext(t *testing.T) {
	srv, requests := drfList(t, 9, sameServer)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ids []int
	var gotErr error
	for it, err := range wrapper.Pages[item](ctx, c, firstPage(c)) {
		if err != nil {
			gotErr = err
			break
		}
		ids = append(ids, it.ID)
		cancel()
	}
	assert.Equal(t, []int{1, 2}, ids, "the page in hand is finished")
	require.ErrorIs(t, gotErr, context.Canceled)
	assert.Equal(t, int32(1), requests.Load())
}

func TestPagesFollowsOnlyUnderTheBaseURL(t *testing.T) {
	tests := []struct {
		name string
		next func(srvURL string, page int) string
	}{
		{"another host", func(string, int) string { return "https://elsewhere.example/api/v1/items/?page=2" }},
		{"scheme-relative", func(string, int) string { return "//elsewhere.example/p/api/v1/items/?page=2" }},
		{"relative, outside the prefix", func(string, int) string { return "/api/v1/items/?page=2" }},
		{"another scheme", func(u string, n int) string { return "https" + u[len("http"):] + "/api/v1/items/?page=2" }},
		{"outside the prefix", func(u string, n int) string { return u + "/other/api/v1/items/?page=2" }},
		{"credentials", func(u string, n int) string {
			return "http://user:pw@" + u[len("http://"):] + "/p/api/v1/items/?page=2"
		}},
		{"same page", func(u string, n int) string { return u + "/p/api/v1/items/" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := drfList(t, 5, tc.next)
			// The base URL has a path prefix.
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL + "/p"))
			require.NoError(t, err)
			ids, err := collect(t, wrapper.Pages[item](context.Background(), c, firstPage(c)))
			assert.Equal(t, []int{1, 2}, ids)
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "pw")
			assert.NotContains(t, err.Error(), "page=2", "no query in the error")
			assert.Equal(t, int32(1), requests.Load(), "the next page is not fetched")
		})
	}
}

// TestPagesStopsAtACycle: a server whose "next" links cycle (page 2 links
// back to page 1, a buggy or hostile server) would make Pages yield the same
// items forever; it stops at the first page it already fetched.
func TestPagesStopsAtACycle(t *testing.T) {
	tests := []struct {
		name string
		next func(srvURL string, page int) string
		ids  []int // the items before the error
	}{
		{"page 3 is page 1", func(srvURL string, page int) string {
			if page > 2 {
				page = 1 // page 2 links back to page 1
			}
			return fmt.Sprintf("%s/api/v1/items/?page=%d&secret=s3cr3t", srvURL, page)
		}, []int{1, 2, 3, 4, 1, 2}},
		{"the same query in another order", func(srvURL string, page int) string {
			if page > 3 {
				return fmt.Sprintf("%s/api/v1/items/?secret=s3cr3t&page=2", srvURL)
			}
			return fmt.Sprintf("%s/api/v1/items/?page=%d&secret=s3cr3t", srvURL, page)
		}, []int{1, 2, 3, 4, 5, 6}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := drfList(t, 100, tc.next)
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			seen := 0
			var last error
			for _, err := range wrapper.Pages[item](ctx, c, firstPage(c)) {
				if err != nil {
					last = err
					break
				}
				seen++
			}
			t.Logf("%d items, %d requests, then: %v", seen, requests.Load(), last)
			assert.NotErrorIs(t, last, context.DeadlineExceeded, "only the caller's deadline ended the loop")
			assert.LessOrEqual(t, seen, 10, "the same four items yielded over and over")

			ctx, cancel = context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			ids, err := collect(t, wrapper.Pages[item](ctx, c, firstPage(c)))
			assert.Equal(t, tc.ids, ids)
			require.ErrorIs(t, err, wrapper.ErrMalformedResponse)
			assert.Contains(t, err.Error(), "links cycle")
			assert.NotContains(t, err.Error(), "s3cr3t", "no query in the error")
			assert.NotContains(t, err.Error(), "page=", "no query in the error")
		})
	}
}

// TestPagesFindsALongCycle: a cycle far into a long crawl is found within
// about twice its length, remembering one page only.
func TestPagesFindsALongCycle(t *testing.T) {
	const back, from = 100, 300 // page 300 links back to page 100
	srv, requests := drfList(t, 10_000, func(srvURL string, page int) string {
		if page > from {
			page = back
		}
		return fmt.Sprintf("%s/api/v1/items/?page=%d", srvURL, page)
	})
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	ids, err := collect(t, wrapper.Pages[item](context.Background(), c, firstPage(c)))
	require.ErrorIs(t, err, wrapper.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "links cycle")
	assert.GreaterOrEqual(t, len(ids), 2*from, "every page up to the cycle")
	assert.LessOrEqual(t, int(requests.Load()), from+2*(from-back+1), "found within twice the cycle's length")
}

// TestPagesChecksTheItemType: an item type that is not the list's is a
// clear error at the first page, before any item.
func TestPagesChecksTheItemType(t *testing.T) {
	srv, requests := drfList(t, 5, sameServer)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	var yielded int
	var last error
	for _, err := range wrapper.Pages[otherItem](context.Background(), c, firstPage(c)) {
		if err != nil {
			last = err
			break
		}
		yielded++
	}
	assert.Zero(t, yielded)
	require.Error(t, last)
	assert.Equal(t, "wrapper: Pages[wrapper_test.otherItem] over *wrapper_test.listResponse: its results are wrapper_test.item, not wrapper_test.otherItem", last.Error())
	assert.Equal(t, int32(1), requests.Load(), "no page past the first")
}

func TestPagesErrors(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, refresh := srv.IssuePair(1)

	// A call that fails: its error.
	ids, err := collect(t, wrapper.Pages[item](context.Background(), c, func(ctx context.Context) (*api.RefreshCreateResponse, error) {
		return c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: "garbage"})
	}))
	assert.Empty(t, ids)
	require.ErrorIs(t, err, wrapper.ErrInvalidToken)

	// A 2xx that is not a paginated list.
	ids, err = collect(t, wrapper.Pages[item](context.Background(), c, func(ctx context.Context) (*api.RefreshCreateResponse, error) {
		return c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh})
	}))
	assert.Empty(t, ids)
	require.ErrorIs(t, err, wrapper.ErrMalformedResponse)
}

// TestPagesErrorsShowNoQuery: an error about a next page names it without
// its query, which may carry anything.
func TestPagesErrorsShowNoQuery(t *testing.T) {
	tests := []struct {
		name string
		body func(srvURL string) string
	}{
		{"not a paginated list", func(srvURL string) string {
			return `{"next": "` + srvURL + `/api/v1/items/?page=2&secret=s3cr3t", "results": [{"id": 1}]}`
		}},
		{"unreachable", func(string) string {
			return `{"next": "/api/v1/items/?page=2&secret=s3cr3t", "results": [{"id": 1}]}`
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.URL.Query().Get("page") == "":
					_, _ = io.WriteString(w, tc.body(srv.URL))
				case tc.name == "unreachable":
					panic(http.ErrAbortHandler) // the connection drops
				default:
					_, _ = io.WriteString(w, `{"next": null}`)
				}
			}))
			t.Cleanup(srv.Close)
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithMaxRetries(0))
			require.NoError(t, err)
			ids, err := collect(t, wrapper.Pages[item](context.Background(), c, firstPage(c)))
			assert.Equal(t, []int{1}, ids)
			require.Error(t, err)
			t.Log(err)
			assert.NotContains(t, err.Error(), "s3cr3t", "no query in the error")
			assert.Contains(t, err.Error(), "/api/v1/items/", "the page is named")
		})
	}
}

// TestPagesFirstPageErrorShowsNoQuery: the first page's own error, such as
// a dropped connection, never repeats its query, which may carry personal
// data.
func TestPagesFirstPageErrorShowsNoQuery(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic(http.ErrAbortHandler) // the connection drops
	}))
	t.Cleanup(srv.Close)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithMaxRetries(0))
	require.NoError(t, err)
	first := func(ctx context.Context) (*listResponse, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL()+"/api/v1/items/?search=alice%40example.com", nil)
		if err != nil {
			return nil, err
		}
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		return &listResponse{HTTPResponse: resp}, nil
	}
	_, err = collect(t, wrapper.Pages[item](context.Background(), c, first))
	require.Error(t, err)
	t.Log(err)
	assert.NotContains(t, err.Error(), "alice")
	assert.Contains(t, err.Error(), "/api/v1/items/", "the page is named")
}
