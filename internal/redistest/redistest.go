// Package redistest starts a real redis-server on loopback for tests: on a
// free port, in a temporary directory, with the append-only file on, never
// as a system service. It needs Debian's redis-server, which .ci/run
// installs.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary is Debian's redis-server.
const Binary = "/usr/bin/redis-server"

// Server is a running redis-server. Its methods are safe for concurrent use.
type Server struct {
	// Addr is its address, such as "127.0.0.1:12345".
	Addr string
	// Dir holds its append-only file and log.
	Dir string

	t      testing.TB
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// Available reports why redis-server cannot run here, or "" if it can.
func Available() string {
	if _, err := os.Stat(Binary); err != nil {
		return fmt.Sprintf("%s not found (%v); install Debian's redis-server", Binary, err)
	}
	return ""
}

// Start starts a server for the test and stops it when the test ends.
// Without redis-server it skips the test, loudly; under CI=true it fails it
// instead, since CI installs it.
func Start(t testing.TB) *Server {
	t.Helper()
	if why := Available(); why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server unavailable under CI: %s", why)
		}
		t.Skipf("SKIPPING REDIS TEST: redis-server unavailable: %s", why)
	}
	port, err := freePort()
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	s := &Server{Addr: "127.0.0.1:" + strconv.Itoa(port), Dir: t.TempDir(), t: t}
	s.start()
	t.Cleanup(s.Kill)
	return s
}

func (s *Server) start() {
	s.t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	cmd := exec.Command(Binary,
		"--bind", host, "--port", port,
		"--dir", s.Dir,
		"--appendonly", "yes",
		"--save", "",
		"--daemonize", "no",
		"--logfile", "redis.log",
	)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	deadline := time.Now().Add(30 * time.Second)
	for !s.ping() {
		select {
		case <-exited:
			s.t.Fatalf("redis-server exited at start: %s", s.log())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server not ready after 30s: %s", s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ping reports whether the server answers PING.
func (s *Server) ping() bool {
	conn, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// Stop stops the server gracefully (SIGTERM, which flushes the append-only
// file) and waits for it to exit.
func (s *Server) Stop() {
	s.signal(syscall.SIGTERM)
}

// Kill kills the server (SIGKILL) and waits for it to exit. It is a no-op
// on a stopped server.
func (s *Server) Kill() {
	s.signal(syscall.SIGKILL)
}

func (s *Server) signal(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	<-exited
}

// Restart stops the server gracefully and starts it again on the same
// address and directory, so it reloads its append-only file.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Start starts a stopped server again on the same address and directory.
func (s *Server) Start() {
	s.t.Helper()
	s.start()
}

func (s *Server) log() string {
	data, _ := os.ReadFile(filepath.Join(s.Dir, "redis.log"))
	return string(bytes.TrimSpace(data))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
