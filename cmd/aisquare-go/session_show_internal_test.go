package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestApprox(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                               "0s",
		400 * time.Millisecond:          "0s",
		42 * time.Second:                "42s",
		time.Hour:                       "1h",
		59*time.Minute + 58*time.Second: "59m58s",
		30 * 24 * time.Hour:             "30d",
		30*24*time.Hour - time.Minute:   "29d23h59m",
		24*time.Hour + 5*time.Second:    "1d",
		2*time.Hour + 3*time.Minute + 4*time.Second: "2h3m4s",
	} {
		assert.Equal(t, want, approx(d), "%v", d)
	}
}
