package wrapper

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
)

// sendTrace follows a request through net/http's [http.Transport], which
// reports when it has written a request whole, to tell a request that never
// left from one whose answer was lost. Use it only with that transport: one
// that reports nothing would look as if it never wrote anything.
type sendTrace struct {
	httptrace.ClientTrace
	wrote atomic.Bool // the last attempt wrote the whole request
}

// with returns ctx with the trace; a trace already in ctx is called too.
func (tr *sendTrace) with(ctx context.Context) context.Context {
	// Each attempt starts by getting a connection: only the last attempt
	// decides. An earlier one was answered, or it would not have been
	// repeated.
	tr.GetConn = func(string) { tr.wrote.Store(false) }
	tr.WroteRequest = func(info httptrace.WroteRequestInfo) {
		if info.Err == nil {
			tr.wrote.Store(true)
		}
	}
	return httptrace.WithClientTrace(ctx, &tr.ClientTrace)
}
