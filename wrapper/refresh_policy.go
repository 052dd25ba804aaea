package wrapper

import (
	"math/rand/v2"
	"time"
)

// When to refresh. An access token is fresh, then stale (inside its refresh
// window: still used, while one refresh runs in the background), then
// expired (callers wait for a refresh). The times come from the token's exp
// claim and the moment the session received the token, never from iat:
// SimpleJWT copies the refresh token's iat into every access token it
// refreshes, so exp - iat grows with the age of the refresh token and says
// nothing about the access token's lifetime.

// minTokenAge is how long a token received from a refresh is used before the
// session refreshes it again, even if the server rejects it (a 401 is then
// the caller's answer). A token that looks due on arrival (the server's
// clock is behind ours, or its exp is seconds away), or that the server
// rejects at once (a deactivated user, a server clock far ahead), would
// otherwise make every request refresh first. One second is below half the
// lifetime of the shortest access tokens that are of use (a few seconds), so
// it never delays the refresh of a real token, and it caps a session at one
// refresh a second however many requests it serves.
const minTokenAge = time.Second

// backgroundDelay is how long a background refresh waits before it starts,
// unless a caller comes to need it. The calls that find a token stale tend
// to come together, in a burst; they go first, and the refresh, which no
// one waits for, takes the processor after them. The delay is short against
// any refresh window (hundreds of milliseconds for the shortest tokens), and
// a caller that comes to need the refresh, its token expired, starts it at
// once.
const backgroundDelay = 10 * time.Millisecond

// retryFloor and retryCap bound the wait after a failed refresh before the
// next attempt, for a token that lived 16 seconds or more when it was
// received; the wait doubles with each failure in a row, with jitter.
// Shorter tokens scale both down, to a sixteenth and a half of their
// lifetime, never below minRetry: a five-second token then gets four tries
// before it expires, instead of one.
//
// The floor keeps a failing server from being hit at request rate: a
// session tries at most once a second (ten times a second for tokens that
// live under two seconds), and after five failures in a row every 16 to 24
// seconds. The cap bounds how long a session stays failed after the server
// is back.
const (
	retryFloor = time.Second
	retryCap   = 30 * time.Second
	minRetry   = 100 * time.Millisecond
)

// refreshTimes returns when a token that expires at exp, received at
// received, turns stale and when it expires; zero times mean never (the
// server's 401 decides). margin is the configured refresh margin, limited
// to half the lifetime left at receipt; u in [0, 1) places the token's
// refresh point in the first half of that window, so sessions holding tokens
// with the same exp spread their refreshes over half the window. A token
// fromRefresh (just issued by the server) is used for at least
// [minTokenAge] whatever its exp says.
func refreshTimes(exp, received time.Time, margin time.Duration, fromRefresh bool, u float64) (staleAt, expireAt time.Time) {
	if exp.IsZero() {
		return time.Time{}, time.Time{}
	}
	window := min(margin, max(exp.Sub(received), 0)/2)
	staleAt = exp.Add(-window + time.Duration(u*float64(window)/2))
	expireAt = exp
	if fromRefresh {
		floor := received.Add(minTokenAge)
		staleAt, expireAt = later(staleAt, floor), later(expireAt, floor)
	}
	return staleAt, expireAt
}

// retryAfter returns how long to wait after the failures-th failed refresh
// in a row (1 for the first) of a token that lived life when received (0 if
// unknown) before the next attempt: the floor doubled each time up to the
// cap, plus up to half as much again at random.
func retryAfter(failures int, life time.Duration) time.Duration {
	floor, ceiling := retryFloor, retryCap
	if life > 0 {
		floor = min(max(life/16, minRetry), retryFloor)
		ceiling = min(max(life/2, floor), retryCap)
	}
	d := min(floor<<min(max(failures-1, 0), 16), ceiling)
	return d + rand.N(d/2+1)
}

// holdAfter401 returns when a 401 for a token received from a refresh at
// received makes the session refresh again, rather than hand the 401 to the
// caller: after [minTokenAge], or, for the run-th refresh in a row that a
// 401 started, after the wait of a failed refresh ([retryAfter]), so that a
// server that rejects every token gets fewer and fewer refreshes. life is
// the token's lifetime at receipt, 0 if unknown.
func holdAfter401(received time.Time, run int, life time.Duration) time.Time {
	if run == 0 {
		return received.Add(minTokenAge)
	}
	return received.Add(max(minTokenAge, retryAfter(run, life)))
}

// jitter returns the u of [refreshTimes] for a new token.
func jitter() float64 { return rand.Float64() }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
