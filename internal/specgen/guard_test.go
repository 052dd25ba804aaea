package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deepSchema is a schema nested n objects deep, as JSON.
func deepSchema(n int) string {
	return strings.Repeat(`{"type":"object","properties":{"a":`, n) + `{"type":"string"}` + strings.Repeat("}}", n)
}

// TestHostileSpecsFailFast: a spec too deep, too large, or built of aliases
// that explode is refused before anything parses it as OpenAPI (the
// generator took 85 s and 3 GB on a 2,000-level schema).
func TestHostileSpecsFailFast(t *testing.T) {
	deep := writeFile(t, "openapi.json", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},`+
		`"components":{"schemas":{"Deep":`+deepSchema(2000)+`}}}`)
	_, err := generate(t, deep, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+deep+":1: the spec nests deeper than 100 levels (at $.components.schemas.Deep.properties.a.properties.a.properties...); "+
		"no API's spec needs that many, and the generator would take minutes and gigabytes on it", err.Error())

	var bomb strings.Builder
	bomb.WriteString("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\nx-a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&bomb, "x-a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	s := writeFile(t, "openapi.yaml", bomb.String())
	_, err = generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+s+" has more than 4000000 nodes once its YAML aliases are expanded: specgen does not read it", err.Error())

	flat := writeFile(t, "openapi.json", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{},"x-a":[`+
		strings.TrimSuffix(strings.Repeat("1,", maxSeparators), ",")+`]}`)
	_, err = generate(t, flat, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+flat+" has more than 2000000 separators (',', ':', '[', '{' and line breaks), "+
		"more than any API's spec needs: specgen does not read it", err.Error())

	large := writeFile(t, "openapi.yaml", "")
	f, err := os.OpenFile(large, os.O_WRONLY, 0)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(maxSpecBytes+1))
	require.NoError(t, f.Close())
	_, err = generate(t, large, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+large+" is larger than 16 MiB, more than any API's spec needs: specgen does not read it", err.Error())
}

// TestDeepButSaneSpecGenerates: nesting well under the limit generates.
func TestDeepButSaneSpecGenerates(t *testing.T) {
	s := spec(t, "", "    Deep: "+deepSchema(40)+"\n", "")
	_, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
}

func TestNotOpenAPI3(t *testing.T) {
	for name, text := range map[string]string{
		"swagger.yaml": "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths: {}\n",
		"list.yaml":    "- a\n- b\n",
	} {
		s := writeFile(t, name, text)
		_, err := generate(t, s, sdkOverlay(t))
		require.Error(t, err, name)
		assert.True(t, strings.HasPrefix(err.Error(), "specgen: "+s+" is not an OpenAPI"), err.Error())
	}
	s := writeFile(t, "bad.yaml", "openapi: [3\n")
	_, err := generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "specgen: "+s+" is not YAML or JSON: "), err.Error())
}

// TestAliasedTextIsBounded: a large value repeated by YAML aliases, under
// every other limit, is refused before anything parses it, at once.
func TestAliasedTextIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: t, version: '1', description: &big '")
	b.WriteString(strings.Repeat("x", 1<<20))
	b.WriteString("'}\npaths: {}\nx-copies: [")
	for i := range 99 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*big")
	}
	b.WriteString("]\n")
	spec := writeFile(t, "openapi.yaml", b.String())
	start := time.Now()
	_, err := readSpec(spec)
	require.Error(t, err)
	assert.Equal(t, "specgen: "+spec+" holds more than 64 MiB of text once its YAML aliases are expanded: specgen does not read it", err.Error())
	t.Logf("refused in %v", time.Since(start))
}
