package redact

import "io"

// writer is an [io.Writer] that passes each write through [Secrets].
type writer struct {
	w       io.Writer
	secrets []string
}

// NewWriter returns a writer that writes to w what it is given with every
// secret and anything shaped like a JWT or a bearer credential replaced, as
// [Secrets] does. It replaces only what one write holds whole: give it
// messages, not a stream cut at random.
func NewWriter(w io.Writer, secrets ...string) io.Writer {
	return &writer{w: w, secrets: secrets}
}

// Write writes p, redacted, to the underlying writer, and reports len(p)
// written when that write succeeds.
func (r *writer) Write(p []byte) (int, error) {
	if _, err := r.w.Write(Bytes(p, r.secrets...)); err != nil {
		return 0, err
	}
	return len(p), nil
}
