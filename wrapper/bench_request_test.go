package wrapper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// jwtExpiring returns an unsigned-looking JWT whose exp is at.
func jwtExpiring(at time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload := fmt.Sprintf(`{"token_type":"access","exp":%d,"iat":%d,"jti":"0","user_id":1}`, at.Unix(), at.Add(-time.Hour).Unix())
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

var (
	refreshAnswer = []byte(`{"access":"` + jwtExpiring(time.Now().Add(time.Hour)) + `","refresh":"r2"}`)
	meAnswer      = []byte(`{"user_id":1}`)
)

// memTransport answers at once from memory: the client's CPU alone.
type memTransport struct{}

func (memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, r.Body)
		_ = r.Body.Close()
	}
	body := meAnswer
	if r.URL.Path == "/api/v1/token/refresh/" {
		body = refreshAnswer
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}, nil
}

const benchBase = "https://api.aisquare.studio"

func consume(b *testing.B, resp *http.Response, err error) {
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// BenchmarkAuthenticatedRequest: one GET of a protected route, in memory.
// The generated client builds a new request for every call; the baselines
// do the same.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	access := jwtExpiring(time.Now().Add(time.Hour))
	c, err := wrapper.New(wrapper.WithBaseURL(benchBase), wrapper.WithTokens(access, "r"),
		wrapper.WithHTTPClient(&http.Client{Transport: memTransport{}}))
	if err != nil {
		b.Fatal(err)
	}
	apiDoer := c.API().ClientInterface.(*api.Client).Client // what c.API() sends through
	plain := &http.Client{Transport: memTransport{}}
	bearer := "Bearer " + access
	tok := &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}
	viaOAuth2 := &http.Client{Transport: &oauth2.Transport{Source: oauth2.ReuseTokenSource(tok, oauth2.StaticTokenSource(tok)), Base: memTransport{}}}
	url := benchBase + "/api/v1/me/"
	ctx := context.Background()

	run := func(name string, do func(*http.Request) (*http.Response, error), setHeader bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if setHeader {
					req.Header.Set("Authorization", bearer)
				}
				resp, err := do(req)
				consume(b, resp, err)
			}
			cpu.report(b)
		})
	}
	run("fixed header", plain.Do, true)
	run("c.API()", apiDoer.Do, false)
	run("oauth2.Transport", viaOAuth2.Do, false)
	run("c.HTTPClient()", c.HTTPClient().Do, false)

	// The same client with a Debug logger: one text record an attempt,
	// written to io.Discard; and with a handler that takes every record and
	// drops it, which leaves the SDK's own part of the cost.
	for _, l := range []struct {
		name string
		h    slog.Handler
	}{
		{"debug log", slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})},
		{"debug, record dropped", dropHandler{}},
	} {
		logged, err := wrapper.New(wrapper.WithBaseURL(benchBase), wrapper.WithTokens(access, "r"),
			wrapper.WithHTTPClient(&http.Client{Transport: memTransport{}}), wrapper.WithLogger(slog.New(l.h)))
		if err != nil {
			b.Fatal(err)
		}
		run("c.API() "+l.name, logged.API().ClientInterface.(*api.Client).Client.Do, false)
		run("c.HTTPClient() "+l.name, logged.HTTPClient().Do, false)
	}
}

// dropHandler takes records at every level and drops them.
type dropHandler struct{}

func (dropHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (dropHandler) Handle(context.Context, slog.Record) error { return nil }
func (h dropHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h dropHandler) WithGroup(string) slog.Handler           { return h }

// BenchmarkAuthenticatedRequestLoopback: the GET of
// [BenchmarkAuthenticatedRequest] through c.API(), to a server on loopback,
// without a logger and with a Debug logger writing text to io.Discard.
func BenchmarkAuthenticatedRequestLoopback(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(meAnswer)
	}))
	b.Cleanup(srv.Close)
	access := jwtExpiring(time.Now().Add(time.Hour))
	bearer := "Bearer " + access
	url := srv.URL + "/api/v1/me/"
	ctx := context.Background()
	run := func(name string, do func(*http.Request) (*http.Response, error), setHeader bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := startCPU()
			for b.Loop() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
				if setHeader {
					req.Header.Set("Authorization", bearer)
				}
				resp, err := do(req)
				consume(b, resp, err)
			}
			cpu.report(b)
		})
	}
	// The SDK's own client has a timeout, which costs net/http a timer: so
	// does the baseline.
	run("fixed header", (&http.Client{Timeout: wrapper.DefaultTimeout}).Do, true)
	for _, l := range []struct {
		name string
		opts []wrapper.Option
	}{
		{"c.API()", nil},
		{"c.API() debug log", []wrapper.Option{wrapper.WithLogger(slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug})))}},
	} {
		c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, "r")}, l.opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		run(l.name, c.API().ClientInterface.(*api.Client).Client.Do, false)
	}
}

// handWritten is a refresh with net/http and encoding/json alone.
func handWritten(hc *http.Client, base, refresh string) (string, error) {
	body, _ := json.Marshal(map[string]string{"refresh": refresh})
	resp, err := hc.Post(base+"/api/v1/token/refresh/", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct{ Access string }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	return out.Access, nil
}

// BenchmarkRefresh: one refresh, in memory and on loopback.
func BenchmarkRefresh(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(refreshAnswer)
	}))
	b.Cleanup(srv.Close)
	ctx := context.Background()
	for _, net := range []struct {
		name string
		base string
		rt   http.RoundTripper
	}{{"memory", benchBase, memTransport{}}, {"loopback", srv.URL, http.DefaultTransport}} {
		hc := &http.Client{Transport: net.rt}
		c, err := wrapper.New(wrapper.WithBaseURL(net.base), wrapper.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		generated, err := api.NewClientWithResponses(net.base, api.WithHTTPClient(hc))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(net.name+"/wrapper", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.RefreshToken(ctx, "r"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(net.name+"/generated", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				resp, err := generated.RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: "r"})
				if err != nil || resp.JSON200 == nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(net.name+"/hand-written", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := handWritten(hc, net.base, "r"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBurst: 1,000 callers need a token at once. Each op is one burst;
// it reports the burst's wall time over one refresh round trip on loopback.
// With an expired token the burst must make exactly one refresh; with a
// valid one it makes none, which measures what waking 1,000 goroutines costs
// by itself.
func BenchmarkBurst(b *testing.B) {
	var refreshes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refreshes.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(refreshAnswer)
	}))
	b.Cleanup(srv.Close)
	plain, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name      string
		access    string
		refreshes int32
	}{
		{"expired", jwtExpiring(time.Now().Add(-time.Hour)), 1},
		{"valid", jwtExpiring(time.Now().Add(time.Hour)), 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			const callers = 1000
			var burst, single time.Duration
			for b.Loop() {
				b.StopTimer()
				c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bc.access, "r"))
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				if _, err := plain.RefreshToken(context.Background(), "r"); err != nil {
					b.Fatal(err)
				}
				single += time.Since(start)
				refreshes.Store(0)
				var ready, wg sync.WaitGroup
				ready.Add(callers)
				gate := make(chan struct{})
				for range callers {
					wg.Go(func() {
						ready.Done()
						<-gate
						if _, err := c.TokenSource().Token(); err != nil {
							b.Error(err)
						}
					})
				}
				ready.Wait()
				b.StartTimer()
				start = time.Now()
				close(gate)
				wg.Wait()
				burst += time.Since(start)
				if n := refreshes.Load(); n != bc.refreshes {
					b.Fatalf("%d refreshes for one burst, want %d", n, bc.refreshes)
				}
			}
			b.ReportMetric(float64(burst)/float64(single), "burst/refresh")
		})
	}
}
