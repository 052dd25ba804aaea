package wrapper

import "time"

// RefreshEvent describes one attempt to refresh a session's access token.
// It never carries a token. See [WithOnRefresh].
type RefreshEvent struct {
	// Background is true when no caller was waiting for the refresh: the
	// token it replaced was still valid.
	Background bool
	// Rotated is true when the server also returned a new refresh token.
	Rotated bool
	// Expiry is the new access token's expiry; zero if the refresh failed or
	// the token has no readable expiry.
	Expiry time.Time
	// Duration is how long the attempt took.
	Duration time.Duration
	// Err is why the attempt failed; nil if it succeeded. When the new
	// tokens could not be saved to the store, Expiry is set and Err is the
	// save's error: the session uses the new tokens and keeps trying to save
	// them.
	Err error
}
