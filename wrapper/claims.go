package wrapper

import (
	"fmt"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/claims"
)

// TokenExpiry returns the expiry (the exp claim) of a JWT such as an access
// token, read without verifying the signature. The error never contains the
// token.
func TokenExpiry(token string) (time.Time, error) {
	c, err := claims.Parse(strings.TrimSpace(token))
	if err != nil {
		return time.Time{}, fmt.Errorf("wrapper: %w", err)
	}
	return c.Expiry, nil
}
