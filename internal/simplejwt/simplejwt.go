// Package simplejwt starts a real Django REST Framework + SimpleJWT server on
// loopback for conformance tests. It needs Debian's python3-django,
// python3-djangorestframework and python3-djangorestframework-simplejwt,
// which .ci/run installs.
package simplejwt

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
)

// Python is Debian's interpreter, which sees Debian's packages; the python3
// first on PATH may be another one.
const Python = "/usr/bin/python3"

// Options configure a server.
type Options struct {
	// Rotate turns on ROTATE_REFRESH_TOKENS.
	Rotate bool
	// Blacklist turns on BLACKLIST_AFTER_ROTATION.
	Blacklist bool
	// AccessLifetime is the access token lifetime; zero means five minutes.
	AccessLifetime time.Duration
	// Threaded serves each request on a thread of its own, as a deployment
	// with several workers would, for tests with many concurrent callers.
	Threaded bool
}

// Server is a running SimpleJWT server.
type Server struct {
	// URL is the base URL, such as "http://127.0.0.1:12345".
	URL string
}

// Available reports why the server cannot run here, or "" if it can.
func Available() string {
	out, err := exec.Command(Python, "-c", "import django, rest_framework, rest_framework_simplejwt").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("%s cannot import django, rest_framework and rest_framework_simplejwt (%v: %s); "+
			"install python3-django python3-djangorestframework python3-djangorestframework-simplejwt",
			Python, err, bytes.TrimSpace(out))
	}
	return ""
}

// Start starts a server for the test and stops it when the test ends. Where
// the packages are missing it skips the test, loudly; under CI=true it fails
// it instead, since CI installs them.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if why := Available(); why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("SimpleJWT server unavailable under CI: %s", why)
		}
		t.Skipf("SKIPPING CONFORMANCE TEST: SimpleJWT server unavailable: %s", why)
	}
	lifetime := opts.AccessLifetime
	if lifetime == 0 {
		lifetime = 5 * time.Minute
	}
	url := Serve(t, []string{scriptPath()},
		"DB_PATH="+filepath.Join(t.TempDir(), "db.sqlite3"),
		"ROTATE_REFRESH_TOKENS="+flag(opts.Rotate),
		"BLACKLIST_AFTER_ROTATION="+flag(opts.Blacklist),
		"ACCESS_LIFETIME_SECONDS="+strconv.Itoa(int(lifetime/time.Second)),
		"THREADED="+flag(opts.Threaded),
		// The session refreshes through the spec's refresh view and sends
		// its scheme, as generated.
		"REFRESH_PATH="+api.RefreshPath,
		"AUTH_HEADER_TYPE="+api.AuthScheme,
	)
	return &Server{URL: url}
}

// Serve runs Python with args and env on a free loopback port, given in
// $PORT, until the test ends, and returns its base URL, such as
// "http://127.0.0.1:12345". The program says it is serving by printing
// "ready" as its first line.
func Serve(t testing.TB, args []string, env ...string) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	cmd := exec.Command(Python, args...)
	cmd.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PORT="+strconv.Itoa(port)), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", filepath.Base(args[0]), err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line == "ready\n"
	}()
	select {
	case ok := <-ready:
		if !ok {
			<-exited
			t.Fatalf("%s did not start: %s", filepath.Base(args[0]), stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready after 60s: %s", filepath.Base(args[0]), stderr.String())
	}
	return "http://127.0.0.1:" + strconv.Itoa(port)
}

// Pair logs in as the server's only user and returns a new token pair.
func (s *Server) Pair(t testing.TB) (access, refresh string) {
	t.Helper()
	body := `{"username":"alice","password":"alice-password"}`
	resp, err := http.Post(s.URL+"/api/v1/token/", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("obtaining a token pair: %v", err)
	}
	defer resp.Body.Close()
	var pair struct{ Access, Refresh string }
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("obtaining a token pair: status %d, decode error %v", resp.StatusCode, err)
	}
	return pair.Access, pair.Refresh
}

// PairIssuedAgo returns a pair as a login age ago would have issued it:
// both tokens' iat and exp are age earlier than a login now would give, so
// the access token may have expired already.
func (s *Server) PairIssuedAgo(t testing.TB, age time.Duration) (access, refresh string) {
	t.Helper()
	body := fmt.Sprintf(`{"age_seconds":%d}`, int(age/time.Second))
	resp, err := http.Post(s.URL+"/api/v1/test/old-pair/", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatalf("obtaining an old token pair: %v", err)
	}
	defer resp.Body.Close()
	var pair struct{ Access, Refresh string }
	if err := json.NewDecoder(resp.Body).Decode(&pair); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("obtaining an old token pair: status %d, decode error %v", resp.StatusCode, err)
	}
	return pair.Access, pair.Refresh
}

// RefreshRequests returns how many requests the refresh endpoint got,
// accepted or not.
func (s *Server) RefreshRequests(t testing.TB) int {
	t.Helper()
	resp, err := http.Get(s.URL + "/api/v1/test/stats/")
	if err != nil {
		t.Fatalf("reading the server's refresh count: %v", err)
	}
	defer resp.Body.Close()
	var stats struct {
		RefreshRequests *int `json:"refresh_requests"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil || stats.RefreshRequests == nil {
		t.Fatalf("reading the server's refresh count: status %d, decode error %v", resp.StatusCode, err)
	}
	return *stats.RefreshRequests
}

func flag(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

func scriptPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", "server.py")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
