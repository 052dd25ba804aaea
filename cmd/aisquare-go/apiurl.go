package main

import (
	"flag"
	"fmt"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// apiURL is the value of --api-url, which --base-url sets too: AISquare's
// own command-line tool names the flag --api-url, and this command named it
// --base-url first.
type apiURL struct {
	value string
	by    string // the flag that set it; "" if neither did
}

// registerAPIURL adds --api-url and its alias --base-url to fs.
func registerAPIURL(fs *flag.FlagSet, u *apiURL) {
	fs.Var(apiURLFlag{u, "api-url"}, "api-url", "the `URL` of the API (default $"+wrapper.APIURLEnv+" or $"+wrapper.BaseURLEnv+
		", else the one the session store records, else "+wrapper.DefaultBaseURL+")")
	fs.Var(apiURLFlag{u, "base-url"}, "base-url", "an alias of --api-url: the `URL` of the API")
}

// apiURLFlag is one of the two names of an [apiURL].
type apiURLFlag struct {
	u    *apiURL
	name string
}

func (f apiURLFlag) String() string {
	if f.u == nil {
		return ""
	}
	return f.u.value
}

// Set refuses the two names with two values: which one was meant is a
// guess, and the wrong one would send the tokens to another API.
func (f apiURLFlag) Set(s string) error {
	if f.u.by != "" && f.u.by != f.name && f.u.value != s {
		return fmt.Errorf("--%s names another URL: give one of --api-url and --base-url", f.u.by)
	}
	f.u.value, f.u.by = s, f.name
	return nil
}
