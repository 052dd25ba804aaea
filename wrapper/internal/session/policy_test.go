package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestRefreshTimes(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name                string
		exp                 time.Time
		margin              time.Duration
		fromRefresh         bool
		u                   float64
		wantStale, wantExpr time.Time
	}{
		{"unreadable exp: never", time.Time{}, time.Minute, true, 0, time.Time{}, time.Time{}},
		{"a week: a minute's window, start", at.Add(7 * 24 * time.Hour), time.Minute, true, 0,
			at.Add(7*24*time.Hour - time.Minute), at.Add(7 * 24 * time.Hour)},
		{"a week: a minute's window, end of the jitter", at.Add(7 * 24 * time.Hour), time.Minute, true, 0.999999,
			at.Add(7*24*time.Hour - 30*time.Second), at.Add(7 * 24 * time.Hour)},
		{"five seconds: half the lifetime from receipt", at.Add(5 * time.Second), time.Minute, true, 0,
			at.Add(2500 * time.Millisecond), at.Add(5 * time.Second)},
		{"due on arrival from a refresh: used for the floor", at.Add(-5 * time.Minute), time.Minute, true, 0,
			at.Add(minTokenAge), at.Add(minTokenAge)},
		{"expired, not from a refresh: expired", at.Add(-5 * time.Minute), time.Minute, false, 0,
			at.Add(-5 * time.Minute), at.Add(-5 * time.Minute)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stale, expr := refreshTimes(tc.exp, at, tc.margin, tc.fromRefresh, tc.u)
			assert.WithinDuration(t, tc.wantStale, stale, time.Millisecond, "staleAt")
			assert.Equal(t, tc.wantExpr, expr, "expireAt")
		})
	}
}

func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		life           time.Duration
		floor, ceiling time.Duration
	}{
		{0, retryFloor, retryCap},
		{7 * 24 * time.Hour, retryFloor, retryCap},
		{5 * time.Second, 5 * time.Second / 16, 5 * time.Second / 2},
		{time.Second, minRetry, time.Second / 2},
		{time.Millisecond, minRetry, minRetry},
	} {
		for failures := 1; failures <= 40; failures++ {
			for range 20 {
				d := retryAfter(failures, tc.life)
				assert.GreaterOrEqual(t, d, tc.floor, "life %v: never below the floor", tc.life)
				assert.GreaterOrEqual(t, d, minRetry)
				assert.LessOrEqual(t, d, tc.ceiling*3/2, "life %v: capped", tc.life)
			}
		}
	}
	assert.GreaterOrEqual(t, retryAfter(3, 0), 4*retryFloor, "doubles")
}

func TestHoldAfter401(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	assert.Equal(t, at.Add(minTokenAge), holdAfter401(at, 0, time.Hour), "a token from a refresh: a second")
	assert.GreaterOrEqual(t, holdAfter401(at, 3, time.Hour).Sub(at), 4*retryFloor, "the third 401-started refresh in a row waits longer")
}
