package wrapper

import (
	"errors"
	"net"
	"sync/atomic"
)

// The retry budget, as in aws-sdk-go-v2's retry quota: a client holds
// retryBudget tokens; a retry takes retryCost of them (timeoutRetryCost
// after a timeout), and is not made when too few are left; a retried request
// that then succeeds gives its cost back, and a request that succeeds at the
// first attempt gives back one. So while the server answers, the budget
// stays full, and during an outage a client makes at most 100 retries in
// all (500 / 5) before its requests go out once each, until successes
// refill it. Success is any answer that is not a 5xx or a 429: a 404 shows a
// server that works.
const (
	retryBudget      = 500
	retryCost        = 5
	timeoutRetryCost = 10
	successRefund    = 1
)

// ErrRetryBudgetSpent matches an error that would have been retried, but
// was returned as it is because the client's retry budget is spent: the
// server has been failing for a while, and more retries would add to its
// load. An answer (such as a 503) is returned as it is, without this error.
// See [DefaultMaxRetries].
var ErrRetryBudgetSpent = errors.New("wrapper: retry budget spent")

// budget is a client's retry budget: a token bucket shared by its requests.
type budget struct {
	left atomic.Int64
}

func newBudget() *budget {
	b := &budget{}
	b.left.Store(retryBudget)
	return b
}

// take takes n tokens, if that many are left.
func (b *budget) take(n int64) bool {
	for {
		left := b.left.Load()
		if left < n {
			return false
		}
		if b.left.CompareAndSwap(left, left-n) {
			return true
		}
	}
}

// give puts n tokens back, up to the budget. A full budget, the usual case,
// costs one atomic load.
func (b *budget) give(n int64) {
	for {
		left := b.left.Load()
		if left >= retryBudget {
			return
		}
		if b.left.CompareAndSwap(left, min(left+n, retryBudget)) {
			return
		}
	}
}

// costOf is what a retry after err takes from the budget.
func costOf(err error) int64 {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return timeoutRetryCost
	}
	return retryCost
}

// budgetError is an error not retried because the budget was spent.
type budgetError struct{ err error }

func (e *budgetError) Error() string {
	return e.err.Error() + " (not retried: " + ErrRetryBudgetSpent.Error() + ")"
}

func (e *budgetError) Unwrap() []error { return []error{ErrRetryBudgetSpent, e.err} }
