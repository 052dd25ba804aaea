package wrapper

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testAccess(exp time.Time) string {
	return testJWT(`{"token_type":"access","exp":` + itoa(exp.Unix()) + `,"iat":` + itoa(exp.Add(-time.Hour).Unix()) + `,"jti":"0","user_id":1}`)
}

// TestCloseStopsTheTimers: Close stops the timers of the session's current
// state, and the session goes on by reading the clock.
func TestCloseStopsTheTimers(t *testing.T) {
	c, err := New(WithBaseURL("https://api.aisquare.studio"), WithTokens(testAccess(time.Now().Add(time.Hour)), "r"))
	require.NoError(t, err)
	st := c.session.cur.Load()
	require.True(t, st.live)
	require.NotNil(t, st.timers[0])
	require.NoError(t, c.Close())
	assert.False(t, st.timers[0].Stop(), "the stale timer was stopped")
	assert.False(t, st.timers[1].Stop(), "the expiry timer was stopped")
	assert.False(t, c.session.cur.Load().live, "the clock decides now")
	tok, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	assert.Equal(t, st.access, tok)
}

// TestHeldTokenSourceKeepsTheTimers: the client is dropped but its token
// source is held: the session lives on, timers and all.
func TestHeldTokenSourceKeepsTheTimers(t *testing.T) {
	c, err := New(WithBaseURL("https://api.aisquare.studio"), WithTokens(testAccess(time.Now().Add(time.Hour)), "r"))
	require.NoError(t, err)
	ts := c.TokenSource().(tokenSource)
	c = nil
	for range 3 {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	st := ts.s.cur.Load()
	assert.True(t, st.live)
	assert.True(t, st.timers[0].Stop(), "the timer still ran")
	runtime.KeepAlive(ts)
}
