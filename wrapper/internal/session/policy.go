package session

import (
	"math/rand/v2"
	"time"
)

// When to refresh: from the access token's exp and the time the session
// received it, never from iat, which SimpleJWT copies from the refresh token.
const (
	minTokenAge     = time.Second           // a refreshed token's least use, even if refused: see refreshTimes
	backgroundDelay = 10 * time.Millisecond // lets the calls that found a token stale go first
	rereadEvery     = time.Second           // a dead session's reads of its store
	flightTimeout   = time.Minute           // beyond the grace period
	// A failed refresh waits retryFloor, doubled each time up to retryCap;
	// tokens that live under 16 s scale both down, to minRetry at least.
	retryFloor, retryCap, minRetry = time.Second, 30 * time.Second, 100 * time.Millisecond
)

// refreshTimes returns when a token expiring at exp, received at received,
// turns stale and expires (zero: never; the server's 401 decides). The
// window is margin, at most half the life left; u in [0, 1] places the
// refresh point in its first half, to spread sessions that share an exp. A
// token fromRefresh is used for minTokenAge at least, or one due or refused
// on arrival would make every request refresh.
func refreshTimes(exp, received time.Time, margin time.Duration, fromRefresh bool, u float64) (staleAt, expireAt time.Time) {
	if exp.IsZero() {
		return time.Time{}, time.Time{}
	}
	window := min(margin, max(exp.Sub(received), 0)/2)
	staleAt, expireAt = exp.Add(-window+time.Duration(u*float64(window)/2)), exp
	if floor := received.Add(minTokenAge); fromRefresh {
		staleAt, expireAt = later(staleAt, floor), later(expireAt, floor)
	}
	return staleAt, expireAt
}

// retryAfter is the wait after the n-th failure in a row, for a token that
// lived life (0: unknown), with up to half as much again of jitter.
func retryAfter(n int, life time.Duration) time.Duration {
	floor, ceiling := retryFloor, retryCap
	if life > 0 {
		floor = min(max(life/16, minRetry), retryFloor)
		ceiling = min(max(life/2, floor), retryCap)
	}
	d := min(floor<<min(max(n-1, 0), 16), ceiling)
	return d + rand.N(d/2+1)
}

// holdAfter401 is when a 401 for a token from the run-th refresh in a row
// that a 401 started (0: none) makes the session refresh again, rather than
// be the answer: a server that refuses every token gets fewer refreshes.
func holdAfter401(received time.Time, run int, life time.Duration) time.Time {
	if run == 0 {
		return received.Add(minTokenAge)
	}
	return received.Add(max(minTokenAge, retryAfter(run, life)))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func jitter() float64 { return rand.Float64() }
