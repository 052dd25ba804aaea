package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/oauth2"
)

// A TokenStore keeps a session's tokens across restarts. A session saves
// every new pair before it uses the new access token, so a rotated refresh
// token is never lost.
type TokenStore interface {
	// Load returns the stored tokens, or nil and no error if there are none.
	Load(ctx context.Context) (*oauth2.Token, error)
	// Save replaces the stored tokens.
	Save(ctx context.Context, tok *oauth2.Token) error
}

// A TokenLocker is a [TokenStore] that several processes may share. A
// session holds its lock while it refreshes, and re-reads the store inside
// it, so that a refresh token rotated by one process is never spent again by
// another.
type TokenLocker interface {
	// Lock blocks until the caller holds the store's lock or ctx ends.
	Lock(ctx context.Context) (unlock func(), err error)
}

// FileStore is a [TokenStore] and [TokenLocker] in a JSON file. It writes
// the file atomically with mode 0600, creating its directory with mode 0700,
// and locks a file beside it (path + ".lock") with an advisory lock.
type FileStore struct {
	path string
}

var (
	_ TokenStore  = (*FileStore)(nil)
	_ TokenLocker = (*FileStore)(nil)
)

// NewFileStore returns a store in the file at path. A missing file holds no
// tokens.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path}
}

// fileTokens is the file's format.
type fileTokens struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// Load reads the file. A file that is not the store's JSON is an error that
// names the path; the store never overwrites it on its own.
func (s *FileStore) Load(context.Context) (*oauth2.Token, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wrapper: reading token file: %w", err)
	}
	var ft fileTokens
	if err := json.Unmarshal(data, &ft); err != nil {
		return nil, fmt.Errorf("wrapper: token file %s is corrupt (not a JSON object of access and refresh tokens)", s.path)
	}
	if ft.Refresh == "" {
		return nil, fmt.Errorf("wrapper: token file %s is corrupt (no refresh token)", s.path)
	}
	return &oauth2.Token{AccessToken: ft.Access, RefreshToken: ft.Refresh, TokenType: "Bearer"}, nil
}

// Save writes the file atomically: a temporary file in the same directory,
// synced, then renamed over it.
func (s *FileStore) Save(_ context.Context, tok *oauth2.Token) (err error) {
	data, err := json.Marshal(fileTokens{Access: tok.AccessToken, Refresh: tok.RefreshToken})
	if err != nil {
		return fmt.Errorf("wrapper: encoding tokens: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("wrapper: creating token directory: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(s.path)+".*.tmp") // mode 0600
	if err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	if err = os.Rename(f.Name(), s.path); err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	return nil
}

// Lock takes the advisory lock of the file path + ".lock", which other
// processes using the same path honour.
func (s *FileStore) Lock(ctx context.Context) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("wrapper: creating token directory: %w", err)
	}
	l := flock.New(s.path+".lock", flock.SetPermissions(0o600))
	if _, err := l.TryLockContext(ctx, 10*time.Millisecond); err != nil {
		return nil, fmt.Errorf("wrapper: locking token file: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}
