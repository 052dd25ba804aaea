package wrapper_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// The messages of a refresh record and of an adoption record.
const (
	refreshedMsg = "aisquare: token refreshed"
	adoptedMsg   = "aisquare: token pair adopted from the store"
)

// exactly returns the records whose message is msg.
func exactly(r *logRecorder, msg string) []record {
	var out []record
	for _, rec := range r.records(msg) {
		if rec.Msg == msg {
			out = append(out, rec)
		}
	}
	return out
}

// TestAPairTakenFromTheStoreIsReportedAsAdopted: two clients share a token
// file; one refreshes, the other takes the new pair from the file. The
// second reports an adoption, in its event and its log, not a refresh or a
// rotation; the server saw one refresh.
func TestAPairTakenFromTheStoreIsReportedAsAdopted(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.PairIssuedAgo(t, time.Hour)
	path := filepath.Join(t.TempDir(), "session.json")
	setSession(t, path, srv.URL, access, refresh)
	ctx := context.Background()

	client := func() (*wrapper.Client, events, *logRecorder) {
		evs := make(events, 4)
		log, logger := newLogRecorder(slog.LevelInfo)
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)),
			logger, wrapper.WithOnRefresh(evs.record))
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		return c, evs, log
	}
	refresher, refresherEvents, refresherLog := client()
	adopter, adopterEvents, adopterLog := client()

	require.NoError(t, meCtx(ctx, refresher, srv.URL))
	ev := refresherEvents.next(t)
	require.NoError(t, ev.Err)
	assert.True(t, ev.Rotated)
	assert.False(t, ev.Adopted, "the pair the server returned is not adopted")
	assert.Len(t, exactly(refresherLog, refreshedMsg), 1, "log:\n%s", refresherLog)

	require.NoError(t, meCtx(ctx, adopter, srv.URL))
	ev = adopterEvents.next(t)
	require.NoError(t, ev.Err)
	assert.True(t, ev.Adopted, "the pair from the store is not reported as adopted: %+v", ev)
	assert.False(t, ev.Rotated, "the pair from the store is reported as a rotation")
	assert.False(t, ev.Login)
	assert.False(t, ev.Expiry.IsZero(), "the adopted pair's expiry")
	assert.Empty(t, exactly(adopterLog, refreshedMsg), "an adoption is logged as a refresh:\n%s", adopterLog)
	if recs := exactly(adopterLog, adoptedMsg); assert.Len(t, recs, 1, "log:\n%s", adopterLog) {
		assert.Equal(t, slog.LevelInfo, recs[0].Level)
		assert.False(t, recs[0].Attrs["rotated"].Bool())
	}
	assert.Equal(t, 1, srv.RefreshRequests(t), "refreshes at the server")

	want, err := refresher.AccessToken(ctx)
	require.NoError(t, err)
	got, err := adopter.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the adopter does not use the refresher's pair")
}

// TestRefreshEventsCarryNoToken: the events of every kind of attempt never
// hold a token, however they are printed.
func TestRefreshEventsCarryNoToken(t *testing.T) {
	evs := make(events, 10)
	clock, srv, c, access, refresh := newSession(t, true, wrapper.WithOnRefresh(evs.record))
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	ok := evs.next(t)
	clock.Advance(time.Hour)
	srv.SetRotation(true, true)
	_, err := plain(t, srv).RefreshToken(context.Background(), srv.LastRefreshToken()) // spends the session's token
	require.NoError(t, err)
	assert.ErrorIs(t, me(t, c, srv), wrapper.ErrInvalidToken)
	failed := evs.next(t)
	require.Error(t, failed.Err)
	for _, ev := range []wrapper.RefreshEvent{ok, failed} {
		for _, text := range []string{fmt.Sprintf("%v", ev), fmt.Sprintf("%+v", ev), fmt.Sprintf("%#v", ev)} {
			for _, tok := range []string{access, refresh, srv.LastRefreshToken()} {
				assert.NotContains(t, text, tok)
			}
		}
	}
}
