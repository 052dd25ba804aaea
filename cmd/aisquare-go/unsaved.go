package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// unsavedError is a refresh whose answer could not be saved where the
// refresh token came from: the old refresh token may be spent, and the
// answer, which [common.printTokens] prints, may hold the only copy of the
// new one.
type unsavedError struct {
	path     string
	err      error // why the save failed
	printed  bool  // the new tokens are on standard output
	printErr error // why printing them failed, if it did
}

func (e *unsavedError) Error() string {
	where := ""
	switch {
	case e.printed:
		where = "; the new one is on standard output, in JSON"
	case e.printErr != nil:
		where = fmt.Sprintf(", and the new one could not be printed either (%v)", e.printErr)
	}
	return fmt.Sprintf("the new tokens could not be saved in %s (the old refresh token may be spent%s): %v", e.path, where, e.err)
}

func (e *unsavedError) Unwrap() error { return e.err }

// refreshOutput is what refresh prints, and what token prints when it
// cannot save the new tokens.
type refreshOutput struct {
	Access          string `json:"access"`
	Refresh         string `json:"refresh,omitempty"`
	AccessExpiresAt string `json:"access_expires_at,omitempty"`
}

// printTokens prints tok, the server's answer to a refresh, on stdout as
// JSON, and returns err, the refresh's error if any: an [*unsavedError]
// learns there where the new tokens are; with no error, printing's own.
// It runs even when the refresh failed to save tok: printing it may be the
// only way a rotated refresh token is not lost.
func (c *common) printTokens(stdout io.Writer, tok *api.TokenRefresh, err error) error {
	c.secrets = append(c.secrets, tok.Access, tok.Refresh)
	out := refreshOutput{Access: tok.Access, Refresh: tok.Refresh}
	if exp, err := wrapper.TokenExpiry(tok.Access); err == nil {
		out.AccessExpiresAt = exp.UTC().Format(time.RFC3339)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	encErr := enc.Encode(out)
	if encErr != nil {
		encErr = fmt.Errorf("writing to standard output: %w", encErr)
	}
	var unsaved *unsavedError
	switch {
	case errors.As(err, &unsaved):
		unsaved.printed, unsaved.printErr = encErr == nil, encErr
		return err
	case err != nil:
		return err
	}
	return encErr
}
