package wrapper

import (
	"net/http"
	"strings"
)

// maxRequestID caps a request ID taken from a response: it is the server's
// text, and ends up in error messages and log records.
const maxRequestID = 128

// requestID returns the ID the server gave a response, to quote to
// AISquare's support: the X-Request-ID header (in any case) or Request-Id;
// "" if there is none. Characters other than printable ASCII become '_'.
func requestID(h http.Header) string {
	id := h.Get("X-Request-Id") // also X-Request-ID, which net/http canonicalizes
	if id == "" {
		id = h.Get("Request-Id")
	}
	if id == "" {
		if v := h["X-Request-ID"]; len(v) > 0 { // a header map built by hand
			id = v[0]
		}
	}
	id = strings.TrimSpace(id)
	if len(id) > maxRequestID {
		id = id[:maxRequestID]
	}
	for i := range len(id) {
		if id[i] < 0x20 || id[i] > 0x7e {
			return strings.Map(func(r rune) rune {
				if r < 0x20 || r > 0x7e {
					return '_'
				}
				return r
			}, id)
		}
	}
	return id
}
