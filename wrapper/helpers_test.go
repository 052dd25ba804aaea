package wrapper_test

import (
	"os"
	"testing"
)

// TestMain runs the tests in an environment of their own: no credentials of
// the user running them (see wrapper.New's chain), whatever the machine
// holds.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "wrapper-test-home")
	if err != nil {
		panic(err)
	}
	for _, kv := range [][2]string{{"HOME", home}, {"XDG_CONFIG_HOME", home + "/.config"}, {"AISQUARE_HOME", home + "/.aisquare"}} {
		_ = os.Setenv(kv[0], kv[1])
	}
	for _, name := range []string{"AISQUARE_TOKEN", "AISQUARE_API_URL", "AISQUARE_BASE_URL", "AISQUARE_LOG"} {
		_ = os.Unsetenv(name)
	}
	code := m.Run()
	_ = os.RemoveAll(home)
	os.Exit(code)
}
