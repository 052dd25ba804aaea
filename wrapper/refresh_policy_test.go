package wrapper

import (
	"encoding/base64"
	"strconv"
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

// TestRefreshTimesIgnoreIat: SimpleJWT copies the refresh token's iat into
// refreshed access tokens, so a token's window comes from its exp and the
// time it was received only.
func TestRefreshTimesIgnoreIat(t *testing.T) {
	now := time.Now()
	loginTwoMinutesAgo := now.Add(-2 * time.Minute)
	access := signedLooking(t, now.Add(5*time.Second), loginTwoMinutesAgo)
	st := newState(access, "r", now, time.Minute, true)
	assert.True(t, st.staleAt.After(now.Add(2*time.Second)), "a 5 s token is fresh for its first half at least: staleAt %v after receipt", st.staleAt.Sub(now))
	assert.Equal(t, fresh, st.phaseAt(now.Add(time.Second)))
}

// TestJitterSpreadsRefreshes: sessions holding tokens with the same exp
// refresh at different moments, over at least a quarter of the window.
func TestJitterSpreadsRefreshes(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Hour).Truncate(time.Second)
	access := signedLooking(t, exp, now)
	var first, last time.Time
	for i := range 1000 {
		st := newState(access, "r", now, time.Minute, true)
		if i == 0 || st.staleAt.Before(first) {
			first = st.staleAt
		}
		if st.staleAt.After(last) {
			last = st.staleAt
		}
		assert.False(t, st.staleAt.Before(exp.Add(-time.Minute)), "inside the window")
	}
	assert.GreaterOrEqual(t, last.Sub(first), time.Minute/4, "spread of 1,000 sessions")
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

func signedLooking(t *testing.T, exp, iat time.Time) string {
	t.Helper()
	return testJWT(`{"token_type":"access","exp":` + itoa(exp.Unix()) + `,"iat":` + itoa(iat.Unix()) + `,"jti":"0","user_id":1}`)
}

func testJWT(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
