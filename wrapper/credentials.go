package wrapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/claims"
)

const (
	// TokenEnv is the environment variable that holds an access token for
	// machines without a browser, such as CI, as AISquare's own command-line
	// tool reads it. It is used as it is, never refreshed (see [New]).
	TokenEnv = "AISQUARE_TOKEN"

	// HomeEnv is the environment variable that names the folder of
	// AISquare's own command-line tool, ~/.aisquare unless set. Its file
	// credentials holds the session of "aisquare login".
	HomeEnv = "AISQUARE_HOME"
)

// ErrLoginRequired matches the error of a session whose access token came
// from [TokenEnv] or from AISquare's command-line tool, and expired, or that
// the server refused (an [*APIError] of status 401): such a token has no
// refresh token, and only a new "aisquare login" (or a new $AISQUARE_TOKEN)
// renews it.
var ErrLoginRequired = errors.New("wrapper: login required")

// loginAdvice is what to do about [ErrLoginRequired].
const loginAdvice = `run "aisquare login", or set a new $` + TokenEnv

// expiredError is the error of an access token from source that expired
// and cannot be refreshed. It matches [ErrLoginRequired] and [ErrNoTokens].
type expiredError struct{ source string }

func (e expiredError) Error() string {
	return "wrapper: the access token from " + e.source + " has expired and cannot be refreshed: " + loginAdvice
}

func (e expiredError) Is(target error) bool {
	return target == ErrLoginRequired || target == ErrNoTokens
}

// credential is a credential that [New] found in the environment.
type credential struct {
	source string    // where it was found, such as "$AISQUARE_TOKEN"
	access string    // a token used as it is, never refreshed
	expiry time.Time // its expiry if known otherwise than from a JWT
	store  *FileStore
}

// ambientCredential returns the first credential of the chain that [New]
// documents after the options: $AISQUARE_TOKEN, the SDK's own session store
// (the default store of the aisquare-go command, if it holds anything), then the
// credentials file of AISquare's command-line tool, read and never written.
// nil if there is none. A credential recorded for another API than baseURL
// is an error matching [ErrStoreMismatch].
func ambientCredential(baseURL string) (*credential, error) {
	if tok := strings.TrimSpace(os.Getenv(TokenEnv)); tok != "" {
		return &credential{source: "$" + TokenEnv, access: tok}, checkEnvToken(tok)
	}
	if path, err := DefaultStorePath(); err == nil {
		if data, err := readRegular(path); err == nil && len(bytes.TrimSpace(data)) > 0 {
			return &credential{source: path, store: NewFileStore(path)}, nil
		}
	}
	home := os.Getenv(HomeEnv)
	if home == "" {
		dir, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		home = filepath.Join(dir, ".aisquare")
	}
	return readCLICredentials(filepath.Join(home, "credentials"), baseURL)
}

// cliMismatchError is the error for a session of AISquare's CLI recorded
// for another API than the client's.
type cliMismatchError struct{ msg string }

func (e cliMismatchError) Error() string { return e.msg }

// Is makes the error match [ErrStoreMismatch].
func (cliMismatchError) Is(target error) bool { return target == ErrStoreMismatch }

// checkEnvToken fails for a $AISQUARE_TOKEN that cannot be an access
// token: one with white space or a control character inside (two values,
// or a line break pasted in), or SimpleJWT's refresh token.
func checkEnvToken(tok string) error {
	if strings.IndexFunc(tok, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("wrapper: $%s holds white space or a control character: it takes one access token", TokenEnv)
	}
	if c, err := claims.Parse(tok); err == nil && c.Type == "refresh" {
		return fmt.Errorf("wrapper: $%s holds a refresh token: it takes an access token", TokenEnv)
	}
	return nil
}

// DefaultStorePath is the SDK's own session store, where the aisquare-go
// command keeps a session: session.json in aisquare/ under the user's
// configuration directory, such as ~/.config/aisquare/session.json. A
// client made without credentials of its own uses it if it exists (see
// [New]).
func DefaultStorePath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("wrapper: no default session store: %w", err)
	}
	return filepath.Join(dir, "aisquare", "session.json"), nil
}

// readCLICredentials reads the credentials file of AISquare's command-line
// tool at path: one JSON object of strings, of which iam_token is the
// session's access token and iam_api_url the API it belongs to. A file with
// only api_key, or one bare line (a legacy api_key), holds the key of
// another product: no credential here.
func readCLICredentials(path, baseURL string) (*credential, error) {
	data, err := readRegular(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("wrapper: reading AISquare's credentials file: %w", err)
	case !strings.HasPrefix(strings.TrimSpace(string(data)), "{"):
		return nil, nil // a legacy api_key
	}
	// Its keys by their exact names, as AISquare's CLI reads them
	// (encoding/json would take "IAM_API_URL" for iam_api_url too).
	var fields map[string]json.RawMessage
	var file struct{ APIURL, Token, ExpiresAt string }
	err = json.Unmarshal(data, &fields)
	for key, v := range map[string]*string{"iam_api_url": &file.APIURL, "iam_token": &file.Token, "iam_token_expires_at": &file.ExpiresAt} {
		if raw, ok := fields[key]; ok && err == nil {
			err = json.Unmarshal(raw, v)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("wrapper: AISquare's credentials file %s is not a JSON object of strings", path)
	}
	if strings.TrimSpace(file.Token) == "" || strings.TrimSpace(file.APIURL) == "" {
		return nil, nil // AISquare's own CLI reads a session without its API as none
	}
	if !newAuthScope(strings.TrimRight(file.APIURL, "/")).sameAPI(newAuthScope(baseURL)) {
		return nil, cliMismatchError{fmt.Sprintf("wrapper: AISquare's credentials file %s is for another API: "+
			`you are signed in to %s but this client targets %s: run "aisquare login" for it, `+
			"or choose its API with WithBaseURL or $%s; WithoutAmbientCredentials turns the search for credentials off",
			path, shownBaseURL(file.APIURL), shownBaseURL(baseURL), APIURLEnv)}
	}
	c := &credential{source: path, access: strings.TrimSpace(file.Token)}
	if file.ExpiresAt != "" {
		if c.expiry, err = time.Parse(time.RFC3339, file.ExpiresAt); err != nil {
			return nil, fmt.Errorf("wrapper: AISquare's credentials file %s: iam_token_expires_at is not an ISO 8601 time", path)
		}
	}
	if _, err := claims.Parse(c.access); err == nil {
		c.expiry = time.Time{} // a JWT's own exp decides
	}
	return c, nil
}
