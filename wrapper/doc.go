// Package wrapper is the hand-written face of the AISquare Studio SDK: it
// gives the generated client in package [api] a base URL, an HTTP client with
// a timeout and a User-Agent, and errors a caller can act on.
//
// Create a client with [New] and refresh a token with [Client.RefreshToken].
// Every other endpoint of the spec is reached through [Client.API], the
// generated client configured like this one; wrap each of its calls in [OK]
// to get the 2xx response or an error in one expression, and follow Django
// REST Framework's paginated lists with [Pages].
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
//		if errors.As(err, &apiErr) {
//			time.Sleep(apiErr.RetryAfter)
//		}
//	case err != nil:
//		return err
//	}
//
// No error message and no formatted value of this package carries a token.
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
