package wrappertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// A Fault replaces or spoils one answer of a route. Set Status to answer
// with Status and Body instead; Delay to answer late; Drop to close the
// connection without an answer; Truncate to send the real answer cut in half
// and close the connection.
type Fault struct {
	// Status and Body, when Status is not zero, are the answer. ContentType
	// defaults to application/json; Header adds headers, such as Retry-After.
	Status      int
	Body        string
	ContentType string
	Header      http.Header
	// Delay holds the answer back, or the drop, for this long (or until the
	// client gives up).
	Delay time.Duration
	// Drop closes the connection without an answer.
	Drop bool
	// Truncate sends the real answer's headers and half its body, then
	// closes the connection.
	Truncate bool
}

// Inject queues faults for the next requests to route, such as
// [RefreshRoute]: the first fault spoils the next request, and so on.
func (s *Server) Inject(route string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[route] = append(s.faults[route], faults...)
}

func (s *Server) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[r.URL.Path]++
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) inject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		queue := s.faults[r.URL.Path]
		if len(queue) == 0 {
			s.mu.Unlock()
			next.ServeHTTP(w, r)
			return
		}
		f := queue[0]
		s.faults[r.URL.Path] = queue[1:]
		s.mu.Unlock()

		// Read the body first, so that a client that gives up cancels r's
		// context; keep it for the real answer.
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		r.Body = io.NopCloser(bytes.NewReader(body))
		if f.Delay > 0 {
			select {
			case <-time.After(f.Delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case f.Drop:
			hangUp(w)
		case f.Truncate:
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body = rec.Body.Bytes()
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
			if fl, ok := w.(http.Flusher); ok {
				fl.Flush()
			}
			hangUp(w)
		case f.Status != 0:
			for k, v := range f.Header {
				w.Header()[k] = v
			}
			ct := f.ContentType
			if ct == "" {
				ct = "application/json"
			}
			w.Header().Set("Content-Type", ct)
			w.WriteHeader(f.Status)
			_, _ = io.WriteString(w, f.Body)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the connection under w.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
		}
	}
}
