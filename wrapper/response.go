package wrapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// Response is what every ...WithResponse method of the generated client
// returns, such as *api.RefreshCreateResponse.
type Response interface {
	StatusCode() int
	GetBody() []byte
}

// OK turns a generated ...WithResponse call into its 2xx response or an
// error, in one expression. Use it around every such call:
//
//	resp, err := wrapper.OK(c.API().RefreshCreateWithResponse(ctx, body))
//
// A status outside 2xx is an [*APIError], as [CheckResponse] gives. A 2xx
// whose JSON body the generated type expects but that came with another
// content type (an HTML page from a proxy, an empty text body) matches
// [ErrMalformedResponse], so that the response's JSON200 (or JSON201...) is
// never nil when err is nil, unless the spec documents that content type
// for the operation too (such as a schema in YAML): the answer is then in
// the response's Body. err, if not nil, is returned as it is: the generated
// client's error for a JSON body that does not parse, say.
func OK[R Response](resp R, err error) (R, error) {
	var zero R
	if err != nil {
		return zero, err
	}
	hr := httpResponse(resp)
	if hr == nil {
		return zero, fmt.Errorf("wrapper: %T has no HTTP response: OK takes what a generated ...WithResponse call returns", resp)
	}
	code := resp.StatusCode()
	if code < 200 || code >= 300 {
		return zero, CheckResponse(hr, resp.GetBody())
	}
	if missingJSON(resp, code) && !documented(hr) {
		reason := "empty body"
		if len(resp.GetBody()) > 0 {
			reason = fmt.Sprintf("content type %q, want application/json", hr.Header.Get("Content-Type"))
		}
		return zero, newMalformed(hr, reason, nil)
	}
	return resp, nil
}

// documented reports whether resp's content type is one that the spec
// documents, other than JSON, for the operation of its request.
func documented(resp *http.Response) bool {
	mediaType, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if resp.Request == nil || mediaType == "" {
		return false
	}
	r := lookupSuffix(resp.Request.Method, resp.Request.URL.Path)
	return r != nil && slices.Contains(r.media, mediaType)
}

// httpResponse returns the HTTPResponse field that every generated response
// type has, or nil.
func httpResponse(resp any) *http.Response {
	v := reflect.ValueOf(resp)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	f, ok := field(v.Elem(), "HTTPResponse")
	if !ok {
		return nil
	}
	hr, _ := f.Interface().(*http.Response)
	return hr
}

// field returns the field of the struct v named name, if v has one that
// can be read: a type that is not a generated response may lack it, hide
// it, or reach it through a nil embedded pointer, where
// [reflect.Value.FieldByName] would panic.
func field(v reflect.Value, name string) (reflect.Value, bool) {
	sf, ok := v.Type().FieldByName(name)
	if !ok || !sf.IsExported() {
		return reflect.Value{}, false
	}
	f, err := v.FieldByIndexErr(sf.Index)
	if err != nil || !f.CanInterface() {
		return reflect.Value{}, false
	}
	return f, true
}

// missingJSON reports whether resp has a JSON<code> field, for a status
// whose body the spec types as JSON, and it is nil: the body was not JSON.
func missingJSON(resp any, code int) bool {
	f, ok := field(reflect.ValueOf(resp).Elem(), "JSON"+strconv.Itoa(code))
	return ok && f.Kind() == reflect.Pointer && f.IsNil()
}

// CheckResponse returns nil for a 2xx response and an [*APIError] for any
// other, with body the response body already read. The error carries no
// token: the server's text in it (Detail, Code, Fields) has the request's
// own token and anything shaped like a JWT replaced by "[REDACTED]",
// control characters removed, and a bounded length. It serves every endpoint:
// the generated client returns a nil error for 4xx and 5xx, so check each
// response it returns ([OK] does it in one expression):
//
//	resp, err := c.API().RefreshCreateWithResponse(ctx, body)
//	if err != nil {
//		return err
//	}
//	if err := wrapper.CheckResponse(resp.HTTPResponse, resp.Body); err != nil {
//		return err
//	}
func CheckResponse(resp *http.Response, body []byte) error {
	return checkResponse(resp, body)
}

// checkResponse is [CheckResponse], and replaces secrets too, such as the
// refresh token in the request's body.
func checkResponse(resp *http.Response, body []byte, secrets ...string) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &APIError{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
	}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.Path = redact.Text(resp.Request.URL.Path, maxErrorText)
		if auth := resp.Request.Header.Get("Authorization"); auth != "" {
			_, cred, _ := strings.Cut(auth, " ")
			secrets = append(secrets, cred)
		}
	}
	e.Body = redact.Bytes(body[:min(len(body), maxErrorBody)], secrets...)
	e.Body = bytes.Clone(e.Body[:min(len(e.Body), maxErrorBody)])
	e.Detail, e.Code, e.Fields = parseErrorBody(body, secrets)
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	e.RequestID = requestID(resp.Header, resp.Request)
	return e
}

// parseErrorBody reads the error shapes of Django REST Framework:
// {"detail": "...", "code": "..."}, a validation body of field names to
// messages, and a bare list of messages. Anything else yields zero values.
// Every string it returns is cleaned by [clean].
func parseErrorBody(body []byte, secrets []string) (detail, code string, fields map[string][]string) {
	var list []string
	if json.Unmarshal(body, &list) == nil {
		return redact.Text(strings.Join(list, " "), maxErrorText, secrets...), "", nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return "", "", nil
	}
	for _, key := range slices.Sorted(maps.Keys(obj)) {
		msgs, ok := stringOrList(obj[key])
		if !ok {
			continue // nested objects, such as SimpleJWT's "messages"
		}
		switch key {
		case "detail":
			detail = redact.Text(strings.Join(msgs, " "), maxErrorText, secrets...)
		case "code":
			code = redact.Text(strings.Join(msgs, " "), maxErrorText, secrets...)
		default:
			if len(fields) == maxErrorFields {
				continue
			}
			if fields == nil {
				fields = make(map[string][]string)
			}
			cleaned := make([]string, 0, min(len(msgs), maxFieldMessages))
			for _, m := range msgs[:min(len(msgs), maxFieldMessages)] {
				cleaned = append(cleaned, redact.Text(m, maxErrorText, secrets...))
			}
			fields[redact.Text(key, maxErrorText, secrets...)] = cleaned
		}
	}
	return detail, code, fields
}

func stringOrList(raw json.RawMessage) ([]string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return []string{s}, true
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return list, true
	}
	return nil, false
}

// parseRetryAfter reads a Retry-After value, in seconds or as an HTTP date.
// A number of seconds too large for a time.Duration is [RetryAfterTooLong].
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	v = strings.TrimSpace(v)
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || secs > uint64(math.MaxInt64/time.Second) {
			return RetryAfterTooLong
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(timeNow()), 0)
	}
	return 0
}

// decodeResponse reads resp's body, maps a status outside 2xx to an
// [*APIError] without secrets, and decodes a 2xx JSON body into v. A body
// cut short is an answer lost.
func (c *Client) decodeResponse(resp *http.Response, v any, secrets ...string) error {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	tooLarge := errors.Is(err, ErrResponseTooLarge)
	if err != nil && !tooLarge {
		return &lostError{op: fmt.Sprintf("%s: %d %s: reading body", where(resp), resp.StatusCode, http.StatusText(resp.StatusCode)), err: err}
	}
	if err := checkResponse(resp, body, secrets...); err != nil {
		return err
	}
	if tooLarge {
		return newMalformed(resp, "body too long", err) // matches ErrResponseTooLarge too
	}
	if len(body) == 0 {
		return newMalformed(resp, "empty body", nil)
	}
	ct := resp.Header.Get("Content-Type")
	if !isJSON(ct) {
		return newMalformed(resp, fmt.Sprintf("content type %q, want application/json", ct), nil)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newMalformed(resp, "invalid JSON", err)
	}
	return nil
}

// isJSON reports whether a Content-Type is application/json or a +json type,
// with any parameters. (mime.ParseMediaType would allocate on every refresh.)
func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	return mediaType == "application/json" || strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}
