package wrapper_test

import (
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// settle collects garbage until the heap stops shrinking, so that cleanups
// of dropped clients have run, and returns the live heap.
func settle() uint64 {
	var ms runtime.MemStats
	last := ^uint64(0)
	for range 20 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // cleanups run on their own goroutine
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc >= last {
			break
		}
		last = ms.HeapAlloc
	}
	return ms.HeapAlloc
}

// TestDroppedClientsLeaveNothing: 100,000 clients with tokens, created and
// dropped without Close, leave no memory and no goroutine behind: their
// timers stop, and their tokens are collected.
func TestDroppedClientsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 clients")
	}
	const clients = 100_000
	exp := time.Now().Add(7 * 24 * time.Hour)
	goroutines := runtime.NumGoroutine()
	before := settle()
	for i := range clients {
		// Distinct tokens, as real sessions hold.
		access := jwtExpiring(exp) + strconv.Itoa(i)
		c, err := wrapper.New(wrapper.WithBaseURL("https://api.aisquare.studio"), wrapper.WithTokens(access, "refresh-"+strconv.Itoa(i)))
		require.NoError(t, err)
		if _, err := c.AccessToken(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	after := settle()
	grown := int64(after) - int64(before)
	t.Logf("heap before %d KiB, after %d KiB, %d clients created and dropped", before>>10, after>>10, clients)
	// Before this was fixed, each client's timer held its tokens for 7
	// days: 64 MB for 100,000 clients. A kilobyte a client would be 100 MB.
	assert.Less(t, grown, int64(8<<20), "heap grew by %d KiB", grown>>10)
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines, "goroutines left")
}

// TestClientWorksAfterClose: a closed client still serves its token (the
// timers it stopped are checked in TestCloseStopsTheTimers).
func TestClientWorksAfterClose(t *testing.T) {
	access := jwtExpiring(time.Now().Add(time.Hour))
	c, err := wrapper.New(wrapper.WithBaseURL("https://api.aisquare.studio"), wrapper.WithTokens(access, "r"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	got, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	assert.Equal(t, access, got)
}
