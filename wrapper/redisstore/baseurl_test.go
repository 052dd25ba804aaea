package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestLoadRefusesTokensOfAnotherBaseURL(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	prod := redisstore.New(client(), "session")
	require.NoError(t, prod.Bind(ctx, "https://api.aisquare.studio"))
	require.NoError(t, prod.Save(ctx, pair(time.Now(), "1")))

	// A client of another API fails in New, before any request.
	_, err := wrapper.New(wrapper.WithBaseURL("https://stg-api.aisquare.studio"),
		wrapper.WithTokenStore(redisstore.New(client(), "session")))
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	assert.Contains(t, err.Error(), "https://api.aisquare.studio")
	assert.Contains(t, err.Error(), "https://stg-api.aisquare.studio")
	assert.Contains(t, err.Error(), `"session"`)

	_, err = redisstore.New(client(), "session").Load(ctx)
	assert.NoError(t, err, "a store bound to no base URL checks none")

	staging := redisstore.New(client(), "session")
	err = staging.Bind(ctx, "https://stg-api.aisquare.studio")
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	got, err := staging.BaseURL(ctx)
	require.NoError(t, err)
	assert.Equal(t, "https://api.aisquare.studio", got)

	again := redisstore.New(client(), "session")
	require.NoError(t, again.Bind(ctx, "https://api.aisquare.studio/"))
	require.ErrorIs(t, again.Bind(ctx, "https://stg-api.aisquare.studio"), wrapper.ErrStoreMismatch, "bound to another already")
	_, err = again.Load(ctx)
	require.NoError(t, err)
}

func TestBindRecordsTheBaseURLOfAnOlderPair(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	require.NoError(t, redisstore.New(client(), "session").Save(ctx, pair(time.Now(), "1")))
	assert.NotContains(t, stored(t, rdb, "session"), "base_url")

	s := redisstore.New(client(), "session")
	require.NoError(t, s.Bind(ctx, "https://api.aisquare.studio"))
	require.NoError(t, s.Save(ctx, pair(time.Now().Add(time.Second), "2")))
	assert.Equal(t, "https://api.aisquare.studio", stored(t, rdb, "session")["base_url"])
}
