package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

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
	if r.URL.Path == api.RefreshPath {
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
	bearer := api.AuthScheme + " " + access
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
	bearer := api.AuthScheme + " " + access
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
	resp, err := hc.Post(base+api.RefreshPath, "application/json", bytes.NewReader(body))
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

// burstBench holds what the burst benchmarks share: a loopback server that
// answers every refresh, and the makers of the token sources compared.
type burstBench struct {
	b         *testing.B
	refreshes atomic.Int32
	now       atomic.Int64 // the clock of the fresh and stale sessions
	fresh     source
	stale     source
	expired   source
	reuse     source
	// staleMem is stale with refreshes answered from memory: the figure
	// is then the client's own work, without the loopback server's.
	staleMem source
}

// source makes a token source, and a function that waits for what it runs
// in the background.
type source func() (oauth2.TokenSource, func())

func newBurstBench(b *testing.B) *burstBench {
	bb := &burstBench{b: b}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bb.refreshes.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(refreshAnswer)
	}))
	b.Cleanup(srv.Close)
	plain, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	if err != nil {
		b.Fatal(err)
	}
	received := time.Now()
	exp := received.Add(time.Hour)
	clock := func() time.Time { return time.Unix(0, bb.now.Load()) }
	session := func(access string, at time.Time, withClock bool, extra ...wrapper.Option) source {
		return func() (oauth2.TokenSource, func()) {
			opts := append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, "r")}, extra...)
			if withClock {
				bb.now.Store(received.UnixNano())
				opts = append(opts, wrapper.WithClock(clock))
			}
			c, err := wrapper.New(opts...)
			if err != nil {
				b.Fatal(err)
			}
			bb.now.Store(at.UnixNano())
			return c.TokenSource(), func() { _ = c.Close() }
		}
	}
	bb.fresh = session(jwtExpiring(exp), received, true)
	bb.stale = session(jwtExpiring(exp), exp.Add(-10*time.Second), true)
	bb.expired = session(jwtExpiring(received.Add(-time.Hour)), received, false)
	counted := &http.Client{Transport: countingMem{&bb.refreshes}}
	bb.staleMem = session(jwtExpiring(exp), exp.Add(-10*time.Second), true, wrapper.WithHTTPClient(counted))
	bb.reuse = func() (oauth2.TokenSource, func()) {
		expired := &oauth2.Token{AccessToken: jwtExpiring(received.Add(-time.Hour)), Expiry: received.Add(-time.Hour)}
		return oauth2.ReuseTokenSource(expired, refreshSource{plain}), func() {}
	}
	return bb
}

// burst releases 1,000 goroutines at once on the token source that source
// makes, and returns the wall time until all of them have a token. It fails
// unless the burst made want refreshes (a background one may end after it).
func (bb *burstBench) burst(source source, want int32) time.Duration {
	const callers = 1000
	ts, wait := source()
	bb.refreshes.Store(0)
	var ready, wg sync.WaitGroup
	ready.Add(callers)
	gate := make(chan struct{})
	for range callers {
		wg.Go(func() {
			ready.Done()
			<-gate
			if _, err := ts.Token(); err != nil {
				bb.b.Error(err)
			}
		})
	}
	ready.Wait()
	start := time.Now()
	close(gate)
	wg.Wait()
	took := time.Since(start)
	wait()
	if n := bb.refreshes.Load(); n != want {
		bb.b.Fatalf("%d refreshes for one burst, want %d", n, want)
	}
	return took
}

// BenchmarkBurst: 1,000 callers need a token at once. Each op is one burst
// of 1,000 goroutines released together; ns/op is the burst's wall time.
// Every burst uses a new token source, made outside the timer.
//
//   - fresh, stale: the session with a clock (WithClock) set to a time when
//     the token is fresh, or inside its refresh window; a stale burst makes
//     exactly one refresh, in the background, which no caller waits for.
//   - expired: the session on an expired token: one shared refresh.
//   - expired/oauth2.ReuseTokenSource: the same burst through
//     oauth2.ReuseTokenSource wrapping [wrapper.Client.RefreshToken].
func BenchmarkBurst(b *testing.B) {
	bb := newBurstBench(b)
	for _, bc := range []struct {
		name      string
		source    source
		refreshes int32
	}{
		{"fresh", bb.fresh, 0},
		{"stale", bb.stale, 1},
		{"expired", bb.expired, 1},
		{"expired/oauth2.ReuseTokenSource", bb.reuse, 1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				total += bb.burst(bc.source, bc.refreshes)
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N), "ns/burst")
		})
	}
}

// BenchmarkBurstRatio compares two kinds of burst in alternation, so that
// the load of a shared machine falls on both alike: each op is one burst of
// each kind. It reports the median burst of each kind, and their ratio: a
// median, since a neighbour's load on a shared machine lands on a few bursts
// at random and would weigh on a mean.
func BenchmarkBurstRatio(b *testing.B) {
	bb := newBurstBench(b)
	for _, bc := range []struct {
		name       string
		num, den   source
		nRef, dRef int32
		metric     string
	}{
		{"stale-vs-fresh", bb.stale, bb.fresh, 1, 0, "stale/fresh"},
		{"stale-vs-fresh/memory", bb.staleMem, bb.fresh, 1, 0, "stale/fresh"},
		{"expired-vs-oauth2.ReuseTokenSource", bb.expired, bb.reuse, 1, 1, "session/reuse"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var num, den []time.Duration
			for i := 0; b.Loop(); i++ {
				if i%2 == 0 {
					num = append(num, bb.burst(bc.num, bc.nRef))
					den = append(den, bb.burst(bc.den, bc.dRef))
				} else {
					den = append(den, bb.burst(bc.den, bc.dRef))
					num = append(num, bb.burst(bc.num, bc.nRef))
				}
			}
			n, d := median(num), median(den)
			names := strings.SplitN(bc.metric, "/", 2)
			b.ReportMetric(float64(n)/float64(d), bc.metric)
			b.ReportMetric(float64(n.Nanoseconds()), "ns/"+names[0])
			b.ReportMetric(float64(d.Nanoseconds()), "ns/"+names[1])
		})
	}
}

func median(ds []time.Duration) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// countingMem is memTransport, counting refreshes.
type countingMem struct{ n *atomic.Int32 }

func (c countingMem) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == api.RefreshPath {
		c.n.Add(1)
	}
	return memTransport{}.RoundTrip(r)
}

// refreshSource is an [oauth2.TokenSource] that refreshes with
// [wrapper.Client.RefreshToken], for oauth2.ReuseTokenSource.
type refreshSource struct{ c *wrapper.Client }

func (s refreshSource) Token() (*oauth2.Token, error) {
	tok, err := s.c.RefreshToken(context.Background(), "r")
	if err != nil {
		return nil, err
	}
	exp, err := wrapper.TokenExpiry(tok.Access)
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tok.Access, RefreshToken: tok.Refresh, Expiry: exp}, nil
}
