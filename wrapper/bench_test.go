package wrapper_test

import (
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// benchSources returns the session's token source and oauth2's
// ReuseTokenSource, each holding a valid token.
func benchSources(b *testing.B) (session, reuse oauth2.TokenSource) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	b.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh))
	if err != nil {
		b.Fatal(err)
	}
	tok := &oauth2.Token{AccessToken: access, Expiry: time.Now().Add(time.Hour)}
	return c.TokenSource(), oauth2.ReuseTokenSource(tok, oauth2.StaticTokenSource(tok))
}

// BenchmarkToken compares the hot path of a valid token: the session reads
// it without a lock; ReuseTokenSource takes a mutex.
func BenchmarkToken(b *testing.B) {
	session, reuse := benchSources(b)
	for _, bc := range []struct {
		name string
		ts   oauth2.TokenSource
	}{{"session", session}, {"oauth2.ReuseTokenSource", reuse}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.ts.Token(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.ts.Token(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
