package redisstore

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// generation counts the saves of the key's pair: a fenced save succeeds only
// over the generation its holder loaded. It is stored as a JSON string of
// decimal digits, which the save script compares as a string: Lua's numbers
// are doubles, and 2^53 and 2^53+1 are the same double. A JSON number, as
// earlier versions stored it, is read if it is a whole number below 2^53,
// which a double holds exactly; a pair without one (a file store's, copied
// in) is generation 0. Anything else, null included, is an error matching
// [ErrCorrupt], here and in the script alike.
type generation int64

// errGeneration is the error of a stored generation in neither form.
var errGeneration = errors.New("redisstore: not a generation")

// String returns g in decimal, as the save script compares it.
func (g generation) String() string { return strconv.FormatInt(int64(g), 10) }

// MarshalJSON writes g as a JSON string of decimal digits.
func (g generation) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, g.String()), nil
}

// UnmarshalJSON reads g in either form, and returns errGeneration for
// anything else.
func (g *generation) UnmarshalJSON(data []byte) error {
	if data[0] == '"' {
		var s string
		if json.Unmarshal(data, &s) != nil || !decimal(s) {
			return errGeneration
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errGeneration
		}
		*g = generation(n)
		return nil
	}
	var f float64
	if string(data) == "null" || json.Unmarshal(data, &f) != nil || f < 0 || f >= 1<<53 || f != math.Trunc(f) {
		return errGeneration
	}
	*g = generation(f)
	return nil
}

// decimal reports whether s is a number in decimal digits alone, without a
// leading zero: one string for each number, so that equal generations are
// equal strings.
func decimal(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == "" && (s == "0" || s[0] != '0')
}
