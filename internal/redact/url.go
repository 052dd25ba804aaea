package redact

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// maxURL caps a URL shown in an error.
const maxURL = 200

// URL returns u without its credentials, query and fragment, which may be
// secret, fit for an error message.
func URL(u *url.URL) string {
	shown := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	if u.Opaque != "" {
		shown = url.URL{Scheme: u.Scheme, Opaque: "…"}
	}
	return Text(shown.String(), maxURL)
}

// RawURL is [URL] for a URL not parsed yet.
func RawURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return URL(u)
}

// URLError cuts the URL that a [*url.Error] in err repeats whole, as
// net/http's errors do, to [RawURL]'s, and returns err.
func URLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		urlErr.URL = RawURL(urlErr.URL)
	}
	return err
}

// Error returns err with a message fit to show: net/http's errors can quote
// what a server sent (a malformed status line, say), which may echo a token.
// It returns err itself when there is nothing to redact. limit caps the
// message (see [Text]).
func Error(err error, limit int, secrets ...string) error {
	msg := Text(err.Error(), limit, secrets...)
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError is an error whose message was redacted by [Error].
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Unwrap() error { return e.err }

// Request removes from msg what a log record must never carry, should an
// error hold it: the query string and the Authorization credentials of req
// (if not nil), URL user information, and anything [Secrets] replaces.
func Request(msg string, req *http.Request) string {
	if req != nil {
		if q := req.URL.RawQuery; q != "" {
			msg = strings.ReplaceAll(msg, q, Placeholder) // short queries too
		}
		if _, cred, ok := strings.Cut(req.Header.Get("Authorization"), " "); ok && cred != "" {
			msg = strings.ReplaceAll(msg, cred, Placeholder)
		}
		if req.URL.User != nil {
			msg = strings.ReplaceAll(msg, req.URL.User.String(), Placeholder)
		}
	}
	return Secrets(msg)
}
