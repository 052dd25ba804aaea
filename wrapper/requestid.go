package wrapper

import (
	"net/http"
	"strings"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// maxRequestID caps a request ID taken from a response: it is the server's
// text, and ends up in error messages and log records.
const maxRequestID = 128

// requestID returns the ID the server gave a response to req, to quote to
// AISquare's support: the X-Request-ID header (however the server spells
// it: net/http canonicalizes the keys it reads) or Request-Id;
// "" if there is none. Characters other than printable ASCII become '_',
// and a server that echoes req's token or anything shaped like a JWT there
// gets it redacted.
func requestID(h http.Header, req *http.Request) string {
	// Canonical keys, looked up directly: net/http canonicalizes the keys of
	// a response it reads, and Header.Get would canonicalize each key again,
	// which costs more than the rest of a log record's attributes. A header
	// map built by hand may hold X-Request-ID as spelled.
	id := first(h, "X-Request-Id")
	if id == "" {
		id = first(h, "Request-Id")
	}
	if id == "" {
		id = first(h, "X-Request-ID")
	}
	if id = strings.TrimSpace(id); id == "" {
		return ""
	}
	var cred string
	if req != nil {
		_, cred, _ = strings.Cut(req.Header.Get("Authorization"), " ")
	}
	id = redact.Secrets(id, cred)
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

// first returns the first value of h[key], or "".
func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
