package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
	"github.com/aisquare-studio/aisquare-go/internal/regfile"
)

// FileStore is a [TokenStore], [TokenLocker] and [BaseURLStore] in a JSON
// file. It writes the file atomically with mode 0600 in a directory of mode
// 0700: it creates the directory so, and refuses an existing one that
// others may write into, that belongs to someone else, or that is shared
// (such as /tmp itself), saying what to do; it never changes the mode of a
// directory it did not create. It removes the temporary files a crashed save left
// behind. It locks a file beside it (path + ".lock", never through a
// symbolic link) with an advisory lock. A path that names a FIFO, a device
// or anything else but a regular file is an error at once, never a wait.
type FileStore struct {
	path string

	mu    sync.Mutex
	bound string // the base URL given to Bind; "" until then
}

var (
	_ TokenStore   = (*FileStore)(nil)
	_ TokenLocker  = (*FileStore)(nil)
	_ BaseURLStore = (*FileStore)(nil)
)

// NewFileStore returns a store in the file at path. A missing file holds no
// tokens.
func NewFileStore(path string) *FileStore {
	return &FileStore{path: path}
}

// fileTokens is the file's format. A file without base_url, written before
// the store recorded it, is accepted and gains it on the next save.
type fileTokens struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
	BaseURL string `json:"base_url,omitempty"`
}

// Load reads the file. A file that is not the store's JSON is an error that
// names the path; the store never overwrites it on its own. Once the store
// is bound (see [FileStore.Bind]), tokens saved for another base URL are an
// error matching [ErrStoreMismatch].
func (s *FileStore) Load(context.Context) (*oauth2.Token, error) {
	ft, err := s.read()
	if err != nil || ft == nil {
		return nil, err
	}
	if bound := s.boundURL(); bound != "" {
		if err := s.check(ft.BaseURL, bound); err != nil {
			return nil, err
		}
	}
	return &oauth2.Token{AccessToken: ft.Access, RefreshToken: ft.Refresh, TokenType: "Bearer"}, nil
}

// BaseURL returns the base URL recorded in the file, or "" if there is
// none.
func (s *FileStore) BaseURL(context.Context) (string, error) {
	ft, err := s.read()
	if err != nil || ft == nil {
		return "", err
	}
	return ft.BaseURL, nil
}

// Bind ties the store to baseURL (see [BaseURLStore]). It refuses the
// store's directory, if it exists, when the store would refuse to keep
// tokens there: before any request, rather than at the first save.
func (s *FileStore) Bind(_ context.Context, baseURL string) error {
	if err := checkPrivateDir(filepath.Dir(s.path), true); err != nil {
		return err
	}
	s.mu.Lock()
	bound := s.bound
	s.mu.Unlock()
	if bound != "" {
		return s.check(bound, baseURL)
	}
	ft, err := s.read()
	if err != nil {
		return err
	}
	if ft != nil {
		if err := s.check(ft.BaseURL, baseURL); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound != "" {
		return s.check(s.bound, baseURL)
	}
	s.bound = baseURL
	return nil
}

func (s *FileStore) boundURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bound
}

// check returns an error matching [ErrStoreMismatch] if stored, a base URL
// the file records, names another API than baseURL. An empty stored matches.
func (s *FileStore) check(stored, baseURL string) error {
	if stored == "" || newAuthScope(stored).sameAPI(newAuthScope(baseURL)) {
		return nil
	}
	return fmt.Errorf("%w: %s holds tokens for %s, and this session's base URL is %s: "+
		"choose its API with WithBaseURL or $%s, or use another store",
		ErrStoreMismatch, s.path, shownBaseURL(stored), shownBaseURL(baseURL), APIURLEnv)
}

// shownBaseURL returns a base URL fit for an error message.
func shownBaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "an unreadable URL"
	}
	return strconv.Quote(redact.URL(u))
}

// read reads and checks the file; nil if it does not exist.
func (s *FileStore) read() (*fileTokens, error) {
	data, err := readRegular(s.path)
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
	return &ft, nil
}

// maxTokenFile caps what a token file may hold: a pair of tokens is a few
// kilobytes; a bigger file is not one.
const maxTokenFile = 1 << 20

// readRegular reads the file at path, which must be a regular file (a FIFO
// would make every read wait for a writer, past any deadline) of at most
// [maxTokenFile] bytes.
func readRegular(path string) ([]byte, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err == nil && len(data) > maxTokenFile {
		return nil, fmt.Errorf("%s holds more than %d KiB: not a token file", path, maxTokenFile>>10)
	}
	return data, err
}

// Save writes the file atomically: a temporary file in the same directory,
// synced, then renamed over it. The file records the base URL the store is
// bound to, if it is bound. Temporary files of saves that crashed are
// removed first.
func (s *FileStore) Save(_ context.Context, tok *oauth2.Token) error {
	data, err := json.Marshal(fileTokens{Access: tok.AccessToken, Refresh: tok.RefreshToken, BaseURL: s.boundURL()})
	if err != nil {
		return fmt.Errorf("wrapper: encoding tokens: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := ensurePrivateDir(dir); err != nil {
		return err
	}
	pattern := "." + filepath.Base(s.path) + ".*.tmp"
	removeAbandoned(dir, pattern)
	err = s.write(dir, pattern, data)
	if errors.Is(err, fs.ErrNotExist) {
		// Another process's save took the temporary file for abandoned in
		// the instant between its creation and its lock.
		err = s.write(dir, pattern, data)
	}
	if err != nil {
		return fmt.Errorf("wrapper: writing token file: %w", err)
	}
	return nil
}

func (s *FileStore) write(dir, pattern string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, pattern) // mode 0600
	if err != nil {
		return err
	}
	// Held until the rename, so that another save knows the file is not
	// abandoned; a crash releases it.
	holdTemp(f)
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if !renameOpenFile {
		if err = f.Close(); err != nil {
			return err
		}
	}
	if err = os.Rename(f.Name(), s.path); err != nil {
		return err
	}
	if renameOpenFile {
		return f.Close()
	}
	return nil
}

// Lock takes the advisory lock of the file path + ".lock", which other
// processes using the same path honour. A symbolic link at that path is an
// error, not followed. Its error says that it was waiting for the lock.
func (s *FileStore) Lock(ctx context.Context) (func(), error) {
	if err := ensurePrivateDir(filepath.Dir(s.path)); err != nil {
		return nil, err
	}
	l := flock.New(s.path+".lock", flock.SetPermissions(0o600), flock.SetFlag(lockFlags))
	if _, err := l.TryLockContext(ctx, 10*time.Millisecond); err != nil {
		if isSymlinkErr(err) {
			return nil, fmt.Errorf("wrapper: lock file %s.lock is a symbolic link: refusing to follow it", s.path)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wrapper: waiting for the lock on token file %s (another process holds %s.lock): %w", s.path, s.path, err)
		}
		return nil, fmt.Errorf("wrapper: locking token file: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}

// ensurePrivateDir makes dir with mode 0700 if it does not exist, and
// refuses an existing one that others may write into (and so replace or
// remove the tokens), that is not the user's, or that is shared. It never
// changes an existing directory's mode behind the user's back: it may hold
// other things. (A directory others may only read is fine: the files in it
// are the user's alone.)
func ensurePrivateDir(dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		// The umask can only take bits away from 0700.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("wrapper: creating token directory: %w", err)
		}
	}
	return checkPrivateDir(dir, false)
}

// checkPrivateDir refuses dir as [ensurePrivateDir] does; one that does not
// exist passes if mayBeMissing.
func checkPrivateDir(dir string, mayBeMissing bool) error {
	info, err := os.Stat(dir)
	switch {
	case mayBeMissing && errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("wrapper: token directory: %w", err)
	case !info.IsDir():
		return fmt.Errorf("wrapper: token directory %s is not a directory", dir)
	case !ownedByUser(info):
		return fmt.Errorf("wrapper: token directory %s belongs to another user: keep tokens in a directory of your own", dir)
	case info.Mode()&fs.ModeSticky != 0:
		return fmt.Errorf("wrapper: token directory %s is shared (sticky, like /tmp): keep tokens in a directory of your own", dir)
	case info.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("wrapper: token directory %s lets other users write into it (mode %04o), so they could replace "+
			"or remove the tokens: make it yours alone (chmod go-w %s), or keep the store in another directory", dir, info.Mode().Perm(), dir)
	}
	return nil
}

// removeAbandoned removes the temporary files matching pattern in dir that
// no save holds, which a crashed save left behind; they hold tokens.
func removeAbandoned(dir, pattern string) {
	prefix, suffix, _ := strings.Cut(pattern, "*")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || len(name) < len(prefix)+len(suffix) ||
			!strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
			continue
		}
		if path := filepath.Join(dir, name); abandoned(path) {
			_ = os.Remove(path)
		}
	}
}
