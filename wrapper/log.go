package wrapper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// LogEnv is the environment variable that turns on logging to standard
// error, as text, when [WithLogger] is not given: "debug" logs every
// attempt of every request, "info" refreshes, "warn" failed refreshes,
// retries given up and a session that died, "error" nothing yet; "" or
// "off" logs nothing. Any other value logs nothing either, and New says so
// once on standard error.
const LogEnv = "AISQUARE_LOG"

// Log messages, one for each kind of record.
const (
	msgAttempt     = "aisquare: request attempt"
	msgGaveUp      = "aisquare: retries given up"
	msgBudget      = "aisquare: retry budget spent, not retried"
	msgRefreshed   = "aisquare: token refreshed"
	msgAdopted     = "aisquare: token pair adopted from the store"
	msgLoggedIn    = "aisquare: logged in"
	msgRefreshFail = "aisquare: token refresh failed"
	msgLoginFail   = "aisquare: login failed"
	msgNotSaved    = "aisquare: token refreshed, but saving it to the store failed"
	msgSessionDied = "aisquare: session died: refresh token rejected, log in again"
)

// logEnvWarned holds the values of [LogEnv] already warned about, and
// logEnvOut is where the warning goes.
var (
	logEnvWarned sync.Map
	logEnvOut    io.Writer = os.Stderr
)

// logger makes every record of a client, and redacts them. A nil *logger
// logs nothing, and costs a nil check.
type logger struct {
	h slog.Handler
}

// newLogger returns the logger of l, else of [LogEnv]; nil if neither asks
// for one.
func newLogger(l *slog.Logger) (*logger, error) {
	if l != nil {
		return &logger{h: l.Handler()}, nil
	}
	env := os.Getenv(LogEnv)
	var level slog.Level
	switch strings.ToLower(strings.TrimSpace(env)) {
	case "", "off":
		return nil, nil
	case "debug":
		level = slog.LevelDebug
	case "info":
		level = slog.LevelInfo
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		// A typo must not stop a service from starting: say so, once, and
		// log nothing, as without the variable.
		if _, warned := logEnvWarned.LoadOrStore(env, true); !warned {
			fmt.Fprintln(logEnvOut, redact.Text(fmt.Sprintf("wrapper: ignoring $%s %q: want debug, info, warn, error or off; logging nothing", LogEnv, env), 200))
		}
		return nil, nil
	}
	return &logger{h: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})}, nil
}

// debug reports whether attempts are logged, so that a caller reads the
// clock for a record only when one will be made.
func (l *logger) debug(ctx context.Context) bool {
	return l != nil && l.h.Enabled(ctx, slog.LevelDebug)
}

// emit hands a record to the handler. It builds the record itself, with no
// caller's program counter: a source line inside the SDK tells a user
// nothing, and finding it would cost more than the rest of the record.
func (l *logger) emit(ctx context.Context, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
	if l == nil || !l.h.Enabled(ctx, level) {
		return
	}
	l.handle(ctx, at, level, msg, attrs...)
}

// handle is emit for a level already known to be enabled.
func (l *logger) handle(ctx context.Context, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
	r := slog.NewRecord(at, level, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.h.Handle(ctx, r)
}

// attempt logs one attempt of req, at Debug, which [logger.debug] found
// enabled: it was sent at start and ended in resp or err; retryIn is the
// wait before the next attempt, negative if none follows.
func (l *logger) attempt(req *http.Request, n int, start time.Time, resp *http.Response, err error, retryIn time.Duration) {
	end := time.Now()
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs,
		slog.String("method", req.Method),
		slog.String("path", redact.Secrets(req.URL.Path)),
		slog.Int("attempt", n),
		resultAttr(req, resp, err),
		slog.Duration("duration", end.Sub(start)),
		slog.Bool("token", first(req.Header, "Authorization") != ""),
	)
	if retryIn >= 0 {
		attrs = append(attrs, slog.Duration("retry_in", retryIn))
	}
	if resp != nil {
		if id := requestID(resp.Header, req); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	l.handle(req.Context(), end, slog.LevelDebug, msgAttempt, attrs...)
}

// gaveUp logs, at Warn, that req is not repeated although its last answer
// or error, after n attempts, would allow it; reason says why.
func (l *logger) gaveUp(req *http.Request, n int, resp *http.Response, err error, reason string) {
	if l == nil {
		return
	}
	l.emit(req.Context(), time.Now(), slog.LevelWarn, msgGaveUp,
		append(final(req, n, resp, err), slog.String("reason", reason))...)
}

// budgetSpent logs, at Warn, that the retry budget stopped the retries of
// req after n attempts.
func (l *logger) budgetSpent(req *http.Request, n int, resp *http.Response, err error) {
	if l == nil {
		return
	}
	l.emit(req.Context(), time.Now(), slog.LevelWarn, msgBudget, final(req, n, resp, err)...)
}

// final describes the last attempt of a request that is not repeated.
func final(req *http.Request, n int, resp *http.Response, err error) []slog.Attr {
	attrs := []slog.Attr{
		slog.String("method", req.Method),
		slog.String("path", redact.Secrets(req.URL.Path)),
		slog.Int("attempts", n),
		resultAttr(req, resp, err),
	}
	if resp != nil {
		if id := requestID(resp.Header, req); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
	}
	return attrs
}

// refresh logs one refresh attempt of a session, or a login: at Info when
// it succeeded; at Warn when it failed, when its new tokens could not be
// saved (Err with an Expiry), and as a session that died when the server
// rejected the refresh token ([ErrInvalidToken]).
func (l *logger) refresh(ev RefreshEvent) {
	if l == nil {
		return
	}
	ctx := context.Background()
	common := []slog.Attr{slog.Bool("background", ev.Background), slog.Duration("duration", ev.Duration)}
	refreshed := append(common, slog.Bool("rotated", ev.Rotated))
	if !ev.Expiry.IsZero() {
		refreshed = append(refreshed, slog.Time("expiry", ev.Expiry))
	}
	switch {
	case ev.Err == nil && ev.Adopted:
		l.emit(ctx, time.Now(), slog.LevelInfo, msgAdopted, refreshed...)
	case ev.Err == nil && ev.Login:
		l.emit(ctx, time.Now(), slog.LevelInfo, msgLoggedIn, refreshed...)
	case ev.Err == nil:
		l.emit(ctx, time.Now(), slog.LevelInfo, msgRefreshed, refreshed...)
	case !ev.Expiry.IsZero():
		l.emit(ctx, time.Now(), slog.LevelWarn, msgNotSaved, append(refreshed, errorAttr(ev.Err, nil))...)
	case ev.Login:
		l.emit(ctx, time.Now(), slog.LevelWarn, msgLoginFail, append(common, errorAttr(ev.Err, nil))...)
	case errors.Is(ev.Err, ErrInvalidToken):
		l.emit(ctx, time.Now(), slog.LevelWarn, msgSessionDied, append(common, errorAttr(ev.Err, nil))...)
	default:
		l.emit(ctx, time.Now(), slog.LevelWarn, msgRefreshFail, append(common, errorAttr(ev.Err, nil))...)
	}
}

// onRefresh returns a refresh callback that logs each event and then calls
// next, if not nil: the value for the config's onRefresh.
func (l *logger) onRefresh(next func(RefreshEvent)) func(RefreshEvent) {
	if l == nil {
		return next
	}
	return func(ev RefreshEvent) {
		l.refresh(ev)
		if next != nil {
			next(ev)
		}
	}
}

// resultAttr is an attempt's status, or its error, redacted.
func resultAttr(req *http.Request, resp *http.Response, err error) slog.Attr {
	if err != nil {
		return errorAttr(err, req)
	}
	return slog.Int("status", resp.StatusCode)
}

// errorAttr is err's message, redacted: see [redact.Request].
func errorAttr(err error, req *http.Request) slog.Attr {
	return slog.String("error", redact.Request(err.Error(), req))
}
