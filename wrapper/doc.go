// Package wrapper is the hand-written face of the AISquare Studio SDK: it
// gives the generated client in package [api] a base URL, an HTTP client with
// a timeout and a User-Agent, and errors a caller can act on.
//
// Create a client with [New]: it finds your sign-in (see New), or takes
// tokens ([WithTokens]), a store ([WithTokenStore]) or a way to sign in
// ([WithLogin]), and keeps the access token valid by itself. Every endpoint
// of the spec is reached through [Client.API], the generated client
// configured like this one; wrap each of its calls in [OK] to get the 2xx
// response or an error in one expression, and follow Django REST
// Framework's paginated lists with [Pages]. [Client.HTTPClient] sends
// requests of your own the same way.
//
// # Which requests get the token
//
// A client with credentials holds a session. The requests of [Client.API]
// and [Client.HTTPClient] carry its access token
// only when they go to the client's base URL (the same scheme, host and
// port, and a path under the base URL's path) and to an operation that
// takes it by the spec (not the token endpoints, which take their token in
// the body). Only those get a refresh and a replay after a 401. Any other
// request, such as a download link on another host, is sent untouched,
// without the token. Every request carries the SDK's User-Agent (with
// [WithUserAgent]'s product) unless it sets its own. A [BaseURLStore] such
// as [FileStore] records the base URL its tokens belong to, and a client
// whose base URL is another fails in [New] with [ErrStoreMismatch].
//
// # Errors
//
// A response outside 2xx becomes an [*APIError] (see [CheckResponse]). It
// matches class sentinels with [errors.Is], and its fields are reached with
// [errors.As]:
//
//	tok, err := c.RefreshToken(ctx, refresh)
//	switch {
//	case errors.Is(err, wrapper.ErrInvalidToken):
//		// The refresh token was rejected: log in again.
//	case errors.Is(err, wrapper.ErrRateLimited):
//		var apiErr *wrapper.APIError
//		if errors.As(err, &apiErr) && apiErr.RetryAfter < time.Minute {
//			time.Sleep(apiErr.RetryAfter)
//		}
//	case err != nil:
//		return err
//	}
//
// No error message and no formatted value of this package carries a token:
// a server's text in an error has the request's own tokens and anything
// shaped like a JWT replaced by "[REDACTED]", control characters removed,
// and a bounded length. A request that provably never left (the name did
// not resolve, no connection, a failed TLS handshake or certificate check, a
// context done before it was written) never matches [ErrAnswerLost].
//
// # Logging and tracing
//
// [WithLogger], or the environment variable [LogEnv], makes the client log
// every attempt of every request at Debug, refreshes at Info, and what went
// wrong at Warn, through [log/slog], never with a token, a body or a query
// value. An [*APIError] carries the server's request ID. The client depends
// on no tracing library: given an instrumented HTTP client through
// [WithHTTPClient], such as OpenTelemetry's otelhttp transport, every
// attempt is a span of its own.
package wrapper
