package wrapper

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper/internal/session"
)

// maxRefreshBody is the longest refresh request body the session reads to
// find out whose refresh token it carries. A refresh request is a few
// hundred bytes; a longer body is not sent, since the session could not
// tell whether it spends the session's token.
const maxRefreshBody = 64 << 10

// serveRefresh sends a request to a refresh endpoint. If it carries the
// session's own refresh token, in any encoding the endpoint parses, the
// session serves it: spending that token behind the session's back would
// leave the session holding a spent token. The session's refresh (shared
// with one in flight, saved before use) is then answered as the server
// would answer it. A body the session cannot read is not sent. out may be
// modified.
func (t *transport) serveRefresh(out *http.Request) (*http.Response, error) {
	if out.Method != http.MethodPost || out.Body == nil || out.Body == http.NoBody {
		return t.next.RoundTrip(out)
	}
	data, err := io.ReadAll(io.LimitReader(out.Body, maxRefreshBody+1))
	closeBody(out)
	if err != nil {
		return nil, fmt.Errorf("wrapper: reading refresh request body: %w", err)
	}
	if len(data) > maxRefreshBody {
		return nil, fmt.Errorf("wrapper: refresh request to %s not sent: its body is over %d KiB, "+
			"too long to tell whether it spends the session's refresh token", out.URL.Path, maxRefreshBody>>10)
	}
	candidates, err := refreshTokensIn(out.Header.Get("Content-Type"), data)
	if err != nil {
		return nil, fmt.Errorf("wrapper: refresh request to %s not sent: %w", out.URL.Path, err)
	}
	if own := t.s.Refresh(); own != "" && bytes.Contains(data, []byte(own)) {
		candidates = append(candidates, own) // in a body the server may parse as this parser does not
	}
	for _, refresh := range candidates {
		next, rotated, ok, err := t.s.RefreshNow(out.Context(), refresh)
		if ok {
			return refreshAnswer(out, next, rotated, err)
		}
	}
	out = out.Clone(out.Context())
	out.Body = io.NopCloser(bytes.NewReader(data))
	out.ContentLength = int64(len(data))
	return t.next.RoundTrip(out)
}

// refreshTokensIn returns every refresh token a refresh request's body
// carries, as Django REST Framework parses JSON, form and multipart bodies:
// a field named exactly "refresh", each of its values, trimmed as a
// serializer's CharField trims; a multipart field in base64 decoded. It
// fails for a charset in which a token's bytes are not ASCII.
func refreshTokensIn(contentType string, body []byte) ([]string, error) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	if cs := strings.ToLower(params["charset"]); !asciiCompatible[cs] {
		return nil, fmt.Errorf("its charset %q cannot be read for the refresh token; send UTF-8", cs)
	}
	var values []string
	switch mediaType {
	case "application/x-www-form-urlencoded":
		form, _ := url.ParseQuery(string(body)) // a malformed pair is skipped, as Django finds no refresh in it
		values = form["refresh"]
	case "multipart/form-data":
		values = multipartValues(body, params["boundary"])
	default:
		values = jsonValues(body)
	}
	for i, v := range values {
		values[i] = strings.TrimFunc(v, pythonSpace)
	}
	return values, nil
}

// asciiCompatible names the charsets in which a refresh token, which is
// ASCII, has the same bytes as in UTF-8.
var asciiCompatible = map[string]bool{
	"": true, "utf-8": true, "utf8": true, "us-ascii": true, "ascii": true,
	"iso-8859-1": true, "latin-1": true, "latin1": true,
}

// pythonSpace reports whether Python's str.strip removes r: Unicode's white
// space and the ASCII separators U+001C to U+001F.
func pythonSpace(r rune) bool { return unicode.IsSpace(r) || r >= 0x1c && r <= 0x1f }

// jsonValues returns the values of every "refresh" key of a JSON object, by
// exact name (encoding/json matches names case-insensitively, Python does
// not), a repeated key included.
func jsonValues(body []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil
	}
	var values []string
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			break
		}
		var value json.RawMessage
		if dec.Decode(&value) != nil {
			break
		}
		var s string
		if key == "refresh" && json.Unmarshal(value, &s) == nil {
			values = append(values, s)
		}
	}
	return values
}

// multipartValues returns the values of every multipart field named
// "refresh" that is not a file, as sent and, in base64 or quoted-printable,
// decoded.
func multipartValues(body []byte, boundary string) []string {
	var values []string
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := r.NextRawPart()
		if err != nil {
			return values
		}
		if part.FormName() != "refresh" || part.FileName() != "" {
			continue
		}
		raw, err := io.ReadAll(part)
		if err != nil {
			return values
		}
		values = append(values, string(raw))
		switch strings.ToLower(part.Header.Get("Content-Transfer-Encoding")) {
		case "base64": // Python's b64decode skips what is not in the alphabet
			clean := bytes.Map(func(r rune) rune {
				if 'A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '+' || r == '/' || r == '=' {
					return r
				}
				return -1
			}, raw)
			if dec, err := base64.StdEncoding.DecodeString(string(clean)); err == nil {
				values = append(values, string(dec))
			}
		case "quoted-printable":
			if dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(raw))); err == nil {
				values = append(values, string(dec))
			}
		}
	}
}

// refreshAnswer turns the session's refresh into the response the server
// would have sent: 200 with the new access token, and the new refresh token
// if it rotated; or the server's own error answer.
func refreshAnswer(req *http.Request, next *session.Token, rotated bool, err error) (*http.Response, error) {
	status, contentType := http.StatusOK, "application/json"
	var body []byte
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return nil, err
		}
		status, contentType, body = apiErr.StatusCode, apiErr.ContentType, apiErr.Body
	} else {
		ans := api.TokenRefresh{Access: next.Access}
		if rotated {
			ans.Refresh = next.Refresh()
		}
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
