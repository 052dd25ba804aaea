package wrapper

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/redact"
	"github.com/aisquare-studio/aisquare-go/wrapper/internal/session"
)

// maxRefreshBody is the longest refresh request body the session reads to
// find out whether it carries the session's refresh token. A refresh
// request is a few hundred bytes; a longer body is not sent, since the
// session could not tell whether it spends the session's token.
const maxRefreshBody = 64 << 10

// serveRefresh sends out, a POST to a refresh view: of the client's API if
// ours, else elsewhere. If its body carries the session's refresh token, in
// any form the view may read it in, the session serves it: spending the
// token behind the session's back would leave the session holding a spent
// token. The session's refresh (shared with one in flight, saved before
// use) is then answered as the server would answer it; a request elsewhere
// that carries the token is not sent. So is a body the session cannot
// read. out may be modified.
func (t *transport) serveRefresh(out *http.Request, ours bool) (*http.Response, error) {
	own := t.s.Refresh()
	if own == "" || out.Body == nil || out.Body == http.NoBody {
		return t.next.RoundTrip(out)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, maxRefreshBody+1))
	closeBody(out)
	where := redact.URL(out.URL)
	if err != nil {
		return nil, fmt.Errorf("wrapper: reading the body of a refresh request to %s: %w", where, err)
	}
	if len(data) > maxRefreshBody {
		return nil, fmt.Errorf("wrapper: refresh request to %s not sent: its body is over %d KiB, "+
			"too long to tell whether it spends the session's refresh token", where, maxRefreshBody>>10)
	}
	carries, err := carriesToken(out.Header, data, own)
	switch {
	case err != nil:
		return nil, fmt.Errorf("wrapper: refresh request to %s not sent: %w", where, err)
	case carries && !ours:
		return nil, fmt.Errorf("wrapper: refresh request to %s not sent: it carries the session's refresh token, "+
			"and only the client's API may have it", where)
	case carries:
		if ans, ok, err := ownRefresh(out.Context(), t.s, own); ok {
			return refreshAnswer(out, ans, err)
		}
	}
	out = out.Clone(out.Context())
	out.Body = io.NopCloser(bytes.NewReader(data))
	out.ContentLength = int64(len(data))
	return t.next.RoundTrip(out)
}

// ownRefresh serves a refresh of the session's refresh token own: by the
// flight in progress, or a new one. ok is false if own is no longer the
// session's.
func ownRefresh(ctx context.Context, s *session.Session, own string) (ans *api.TokenRefresh, ok bool, err error) {
	next, rotated, ok, err := s.RefreshNow(ctx, own)
	if !ok || err != nil {
		return nil, ok, err
	}
	ans = &api.TokenRefresh{Access: next.Access}
	if rotated {
		ans.Refresh = next.Refresh()
	}
	return ans, true, nil
}

// sameToken reports whether a refresh token given by a caller is own as
// SimpleJWT reads it: the same header and payload, which the signature
// covers, whatever the spelling of the signature (PyJWT decodes base64
// leniently).
func sameToken(given, own string) bool {
	given = strings.TrimFunc(given, pythonSpace)
	return given == own || own != "" && strings.HasPrefix(given, signedPart(own))
}

// signedPart is a JWT's header and payload with the dot after them: the
// text no two tokens share. A token that is no JWT is all of it.
func signedPart(token string) string {
	if i := strings.LastIndexByte(token, '.'); i > 0 {
		return token[:i+1]
	}
	return token
}

// carriesToken reports whether body, with the request's headers h, carries
// the refresh token own in any form Django REST Framework's parsers may
// read it in, whatever the content type says: the text itself, or
// percent-decoded (a form), a JSON string, a multipart part, in base64 or
// quoted-printable too. Reading more forms than the server does costs
// nothing: only the session's own token is looked for. It fails for a body
// that is not ASCII or UTF-8 text, or a charset in which a token's bytes
// are not ASCII (UTF-16): there, the token would not be found.
func carriesToken(h http.Header, body []byte, own string) (bool, error) {
	var contentTypes []string
	for k, v := range h {
		if strings.EqualFold(k, "Content-Type") {
			contentTypes = append(contentTypes, v...)
		}
	}
	ct := strings.Join(contentTypes, ";")
	for _, m := range charsetParam.FindAllStringSubmatch(ct, -1) {
		if cs := strings.ToLower(m[1]); !asciiCompatible[cs] {
			return false, fmt.Errorf("its charset %q cannot be read for the refresh token; send UTF-8", cs)
		}
	}
	if bytes.IndexByte(body, 0) >= 0 || !utf8.Valid(body) {
		return false, errors.New("its body is not UTF-8 text, which the session can read for the refresh token; send UTF-8")
	}
	key := []byte(signedPart(own))
	found := func(view []byte) bool { return bytes.Contains(view, key) }
	if found(body) || found(percentDecoded(body)) || found(jsonStrings(body)) {
		return true, nil
	}
	for _, b := range boundaries(ct, body) {
		for _, part := range bytes.Split(body, append([]byte("--"), b...)) {
			_, content, ok := bytes.Cut(part, []byte("\r\n\r\n"))
			if !ok {
				_, content, _ = bytes.Cut(part, []byte("\n\n"))
			}
			qp, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(content)))
			if found(base64Decoded(content)) || found(qp) {
				return true, nil
			}
		}
	}
	return false, nil
}

var (
	charsetParam  = regexp.MustCompile(`(?i)charset\s*=\s*"?([^";,\s]*)`)
	boundaryParam = regexp.MustCompile(`(?i)boundary\s*=\s*"?([^";,]*)`)
)

// asciiCompatible names the charsets in which a refresh token, which is
// ASCII, has the same bytes as in UTF-8.
var asciiCompatible = map[string]bool{
	"": true, "utf-8": true, "utf8": true, "us-ascii": true, "ascii": true,
	"iso-8859-1": true, "latin-1": true, "latin1": true,
}

// pythonSpace reports whether Python's str.strip, which a serializer's
// CharField applies, removes r: Unicode's white space and the ASCII
// separators U+001C to U+001F.
func pythonSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// percentDecoded decodes %XX in body, '+' as a space, leaving what is no
// escape as it is, as Python's unquote_plus does.
func percentDecoded(body []byte) []byte {
	if !bytes.ContainsAny(body, "%+") {
		return nil
	}
	out := make([]byte, 0, len(body))
	for i := 0; i < len(body); i++ {
		switch c := body[i]; {
		case c == '+':
			out = append(out, ' ')
		case c == '%' && i+2 < len(body) && isHex(body[i+1]) && isHex(body[i+2]):
			n, _ := strconv.ParseUint(string(body[i+1:i+3]), 16, 8)
			out, i = append(out, byte(n)), i+2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// jsonStrings returns every string of a JSON document, keys included, one
// per line; nil if body is not JSON.
func jsonStrings(body []byte) []byte {
	if !bytes.Contains(body, []byte(`\`)) {
		return nil // every string is in body as it is
	}
	var out []byte
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out = append(append(out, s...), '\n')
		}
	}
}

// boundaries returns the boundaries a multipart body may use: every
// boundary parameter of its content type, and the one its first line
// opens.
func boundaries(contentType string, body []byte) [][]byte {
	var bs [][]byte
	for _, m := range boundaryParam.FindAllStringSubmatch(contentType, -1) {
		if b := strings.TrimSpace(m[1]); b != "" {
			bs = append(bs, []byte(b))
		}
	}
	if first, _, _ := bytes.Cut(bytes.TrimLeft(body, "\r\n"), []byte("\n")); bytes.HasPrefix(first, []byte("--")) {
		if b := bytes.TrimSpace(first[2:]); len(b) > 0 {
			bs = append(bs, b)
		}
	}
	return bs
}

// base64Decoded decodes content as Python's b64decode does, skipping what
// is not in base64's alphabet; nil if it does not decode.
func base64Decoded(content []byte) []byte {
	clean := bytes.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '/' {
			return r
		}
		return -1
	}, content)
	dec, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return nil
	}
	return dec
}

// refreshAnswer turns the session's refresh into the response the server
// would have sent: 200 with the new access token, and the new refresh token
// if it rotated; or the server's own error answer.
func refreshAnswer(req *http.Request, ans *api.TokenRefresh, err error) (*http.Response, error) {
	status, contentType := http.StatusOK, "application/json"
	var body []byte
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return nil, err
		}
		status, contentType, body = apiErr.StatusCode, apiErr.ContentType, apiErr.Body
	} else {
		body, _ = json.Marshal(ans) // two strings always marshal
	}
	return &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {contentType},
			"Content-Length": {strconv.Itoa(len(body))},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}
