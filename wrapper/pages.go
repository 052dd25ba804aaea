package wrapper

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"reflect"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// page is a page of Django REST Framework's PageNumberPagination:
// {"count": N, "next": URL or null, "previous": URL or null, "results": [...]}.
type page[T any] struct {
	Next    *string `json:"next"`
	Results *[]T    `json:"results"`
}

// Pages returns the items of a paginated list, page by page: first fetches
// the first page with a generated ...WithResponse call, and each next page
// is fetched from the page's "next" URL through c, with its token, as long
// as it is under c's base URL. Iteration stops at the last page, at the first
// error (yielded with a zero item), or when ctx ends:
//
//	for p, err := range wrapper.Pages[api.Project](ctx, c, func(ctx context.Context) (*api.ProjectsListResponse, error) {
//		return c.API().ProjectsListWithResponse(ctx, nil)
//	}) {
//		if err != nil {
//			return err
//		}
//		use(p)
//	}
//
// T is the type of an item, such as api.Project.
func Pages[T any, R Response](ctx context.Context, c *Client, first func(context.Context) (R, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		resp, err := OK(first(ctx))
		if err != nil {
			yield(zero, redact.URLError(err))
			return
		}
		if err := resultsOf[T](resp); err != nil {
			yield(zero, err)
			return
		}
		var p page[T]
		if err := json.Unmarshal(resp.GetBody(), &p); err != nil {
			yield(zero, newMalformed(httpResponse(resp), "invalid JSON", err))
			return
		}
		var current string
		if hr := httpResponse(resp); hr.Request != nil {
			current = hr.Request.URL.String()
		}
		// A server whose "next" links lead back to a page fetched before
		// would make the loop endless. Brent's cycle detection finds a
		// cycle of any length, within twice its length, in constant memory:
		// it remembers one page, and moves it on at pages 2, 4, 8...
		mark, markN, power, steps := pageKey(current), 1, 1, 0
		for n := 1; ; n++ {
			if p.Results == nil {
				yield(zero, fmt.Errorf("%w: %s: no \"results\": not a paginated list", ErrMalformedResponse, redact.RawURL(current)))
				return
			}
			for _, item := range *p.Results {
				if !yield(item, nil) {
					return
				}
			}
			if p.Next == nil || *p.Next == "" {
				return
			}
			if err := ctx.Err(); err != nil {
				yield(zero, err)
				return
			}
			next, err := c.resolve(current, *p.Next)
			if err != nil {
				yield(zero, err)
				return
			}
			key := pageKey(next)
			if key == mark {
				yield(zero, fmt.Errorf("%w: %s: the next page of page %d is page %d again: the \"next\" links cycle",
					ErrMalformedResponse, redact.RawURL(next), n, markN))
				return
			}
			if p, err = getPage[T](ctx, c, next); err != nil {
				yield(zero, err)
				return
			}
			if current, steps = next, steps+1; steps == power {
				mark, markN, power, steps = key, n+1, 2*power, 0
			}
		}
	}
}

// resultsOf checks that T is the item type of the list in resp, a
// generated response: the element type of the Results of its JSON200
// field, where resp has one.
func resultsOf[T any](resp any) error {
	f, ok := field(reflect.ValueOf(resp).Elem(), "JSON200")
	if !ok {
		return nil
	}
	list := f.Type()
	for list.Kind() == reflect.Pointer {
		list = list.Elem()
	}
	if list.Kind() != reflect.Struct {
		return nil
	}
	results, ok := list.FieldByName("Results")
	if !ok {
		return nil
	}
	elem := results.Type
	for elem.Kind() == reflect.Pointer {
		elem = elem.Elem()
	}
	if want := reflect.TypeFor[T](); elem.Kind() == reflect.Slice && elem.Elem() != want {
		return fmt.Errorf("wrapper: Pages[%s] over %T: its results are %s, not %s", want, resp, elem.Elem(), want)
	}
	return nil
}

// pageKey is what tells two page URLs apart: the URL with its query
// parameters in order, so that "?page=2&size=10" and "?size=10&page=2" are
// one page.
func pageKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.RawQuery = u.Query().Encode()
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// resolve returns next, a page's "next" link, as an absolute URL resolved
// against current, the page's own URL (a proxy may make it relative). It must
// be under c's base URL.
func (c *Client) resolve(current, next string) (string, error) {
	ref, err := url.Parse(next)
	if err != nil {
		return "", fmt.Errorf("%w: next page link is not a URL", ErrMalformedResponse)
	}
	if cur, err := url.Parse(current); err == nil && current != "" {
		ref = cur.ResolveReference(ref)
	}
	abs := ref.String()
	if !c.within(abs) {
		return "", fmt.Errorf("wrapper: next page %s is not under the base URL %s: not followed", redact.RawURL(abs), c.baseURL)
	}
	return abs, nil
}

// getPage fetches and decodes the page at next.
func getPage[T any](ctx context.Context, c *Client, next string) (page[T], error) {
	var p page[T]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
	if err != nil {
		return p, fmt.Errorf("wrapper: next page %s: %w", redact.RawURL(next), redact.URLError(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return p, redact.URLError(err)
	}
	return p, c.decodeResponse(resp, &p)
}

// within reports whether raw is a URL under c's base URL: the same scheme,
// host and port, and a path under its path that does not escape it (see
// [authScope.under]).
func (c *Client) within(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.User != nil {
		return false
	}
	_, ok := c.scope.under(u)
	return ok
}
