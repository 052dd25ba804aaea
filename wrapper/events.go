package wrapper

import "time"

// RefreshEvent describes one attempt of a session to renew its access
// token: a refresh sent, a pair adopted from the store, or a login. It never
// carries a token. See [WithOnRefresh].
type RefreshEvent struct {
	// Background is true when no caller was waiting for it: the token it
	// replaced was still valid.
	Background bool
	// Rotated is true when the server also returned a new refresh token.
	Rotated bool
	// Adopted is true when the new pair came from the token store, where
	// another client or process saved it after its own refresh. This
	// session sent no refresh, or one that the server refused or whose
	// answer was lost.
	Adopted bool
	// Login is true when the session logged in (see [WithLogin]).
	Login bool
	// Expiry is the new access token's expiry; zero if the attempt failed
	// or the token has no readable expiry.
	Expiry time.Time
	// Duration is how long the attempt took.
	Duration time.Duration
	// Err is why the attempt failed; nil if it succeeded. When the new
	// tokens could not be saved to the store, Expiry is set and Err is the
	// save's error: the session uses the new tokens and keeps trying to save
	// them.
	Err error
}
