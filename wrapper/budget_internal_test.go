package wrapper

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBudget(t *testing.T) {
	b := newBudget()
	b.give(1)
	assert.Equal(t, int64(retryBudget), b.left.Load(), "never more than full")
	for range retryBudget / retryCost {
		require.True(t, b.take(retryCost))
	}
	assert.False(t, b.take(retryCost), "spent")
	assert.False(t, b.take(1))
	for range 4 {
		b.give(successRefund)
	}
	assert.False(t, b.take(retryCost), "4 successes do not pay for a retry")
	b.give(successRefund)
	assert.True(t, b.take(retryCost))
	b.give(retryBudget * 2)
	assert.Equal(t, int64(retryBudget), b.left.Load())
}

func TestBudgetCost(t *testing.T) {
	timeout := &timeoutError{err: errors.New("i/o timeout")}
	assert.Equal(t, int64(timeoutRetryCost), costOf(fmt.Errorf("dial: %w", timeout)))
	assert.Equal(t, int64(retryCost), costOf(errors.New("connection refused")))
	assert.Equal(t, int64(retryCost), costOf(nil), "an answer such as a 503")
}
