package wrapper

import (
	"fmt"
	"net/http"
	"reflect"
	"strconv"
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
// A status outside 2xx is an [*APIError], as [CheckResponse] gives; a 2xx
// whose JSON body the generated type expects but that came with another
// content type (an HTML page from a proxy, an empty text body) matches
// [ErrMalformedResponse], so that the response's JSON200 (or JSON201...) is
// never nil when err is nil. err, if not nil, is returned as it is: the
// generated client's error for a JSON body that does not parse, say.
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
	if missingJSON(resp, code) {
		reason := "empty body"
		if len(resp.GetBody()) > 0 {
			reason = fmt.Sprintf("content type %q, want application/json", hr.Header.Get("Content-Type"))
		}
		return zero, newMalformed(hr, reason, nil)
	}
	return resp, nil
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
