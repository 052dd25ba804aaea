package aisquare_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documentation: the README, a newcomer's page, and the pages of docs/.
const (
	readme         = "README.md"
	readmeMaxLines = 300
	docsGlob       = "docs/*.md"
	// sdkModule is the module path of this repository's root module.
	sdkModule = "github.com/aisquare-studio/aisquare-go"
	// snippetDir is where the snippets' packages appear to be, under the
	// module that builds them. Nothing is written there: the go command
	// sees them through -overlay.
	snippetDir = "docsnippets"
)

// snippetModules are the modules of the repository that build snippets, in
// the order they are tried: a snippet builds in the first that requires
// every module it imports. internal/tracing is a module of its own so that
// the SDK's go.mod names no OpenTelemetry package; a snippet that traces
// builds there.
var snippetModules = []string{".", "internal/tracing"}

// A snippet is a Go code block of a Markdown file: a whole Go file, from
// its package clause on.
type snippet struct {
	file string // the Markdown file, such as "docs/sessions.md"
	line int    // the line of the file where the code starts
	code string
}

func (s snippet) String() string { return s.file + ":" + strconv.Itoa(s.line) }

// TestDocSnippetsCompile builds every Go snippet of the README and of
// docs/, each as a package of its own in the module whose go.mod requires
// what it imports, with one go command for each module. A snippet that
// does not compile fails the test with its Markdown file and line.
func TestDocSnippetsCompile(t *testing.T) {
	t.Parallel()
	var all []snippet
	for _, file := range docFiles(t) {
		snippets, err := readSnippets(file)
		require.NoError(t, err)
		all = append(all, snippets...)
	}
	require.NotEmpty(t, all, "no Go snippet found: the extraction is broken")
	for _, s := range all {
		formatted, err := format.Source([]byte(s.code))
		if err == nil && string(formatted) != s.code {
			t.Errorf("%s: the snippet is not gofmt-formatted; gofmt gives:\n%s", s, formatted)
		}
	}
	out, err := buildSnippets(t, all)
	if err != nil {
		t.Fatalf("the documentation's Go snippets do not build: %v\n%s", err, out)
	}
	t.Logf("%d snippets built:\n%s", len(all), out)
}

// TestSnippetErrorsNameTheirMarkdownLine: a snippet that does not compile
// is reported at its Markdown file and line, not at a file of the test's.
func TestSnippetErrorsNameTheirMarkdownLine(t *testing.T) {
	t.Parallel()
	md := "# A page\n\nSome text.\n\n```go\npackage main\n\nfunc main() {\n\tundefinedName()\n}\n```\n"
	path := filepath.Join(t.TempDir(), "broken.md")
	require.NoError(t, os.WriteFile(path, []byte(md), 0o600))
	snippets, err := readSnippets(path)
	require.NoError(t, err)
	require.Len(t, snippets, 1)
	assert.Equal(t, 6, snippets[0].line, "the line of the package clause")

	out, err := buildSnippets(t, snippets)
	require.Error(t, err, "a snippet that calls an undefined function built:\n%s", out)
	// The go command may show the path relative to the module's directory.
	assert.Contains(t, out, "broken.md:9:2: undefined: undefinedName")
}

// TestReadSnippetsRefusesWhatItWouldSkip: a Go block that is not a whole
// file, a block labelled with another spelling of Go, and a block left
// open are errors, never snippets skipped in silence.
func TestReadSnippetsRefusesWhatItWouldSkip(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ md, want string }{
		"fragment":  {"text\n\n```go\nc, err := wrapper.New()\n```\n", "page.md:3: a Go snippet must be a whole file"},
		"golang":    {"```golang\npackage main\n```\n", `page.md:1: a code block labelled "golang"`},
		"unclosed":  {"```go\npackage main\n", "page.md:1: the code block is never closed"},
		"indented":  {"- item\n\n  ```go\n  package main\n  ```\n", ""},
		"no go":     {"```sh\nmake test\n```\n", ""},
		"two lines": {"```go\n// Command x.\npackage main\n```\n", ""},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "page.md")
			require.NoError(t, os.WriteFile(path, []byte(tc.md), 0o600))
			_, err := readSnippets(path)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), filepath.Join(filepath.Dir(path), tc.want))
		})
	}
}

// TestReadmeIsANewcomersPage: the README fits in readmeMaxLines, and its
// first code block is the whole set-up: the demo, then the tests.
func TestReadmeIsANewcomersPage(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(readme)
	require.NoError(t, err)
	lines := strings.Count(string(data), "\n")
	assert.LessOrEqual(t, lines, readmeMaxLines, "%s has %d lines: depth goes to docs/ and go doc", readme, lines)

	blocks := codeBlocks(string(data))
	require.NotEmpty(t, blocks, "%s has no code block", readme)
	first := blocks[0]
	assert.Equal(t, "sh", first.info, "the first code block is the set-up, in sh")
	var commands []string
	for line := range strings.Lines(first.body) {
		if cmd, _, _ := strings.Cut(line, "#"); strings.TrimSpace(cmd) != "" {
			commands = append(commands, strings.TrimSpace(cmd))
		}
	}
	assert.Equal(t, []string{"go run ./cmd/aisquare-go demo", "make test"}, commands)
}

// TestDocLinksResolve: every relative link of the README and docs/ names a
// file of the repository, and a heading of it where the link has an
// anchor.
func TestDocLinksResolve(t *testing.T) {
	t.Parallel()
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range docFiles(t) {
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		text := withoutCodeBlocks(string(data))
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			resolved := file
			if path != "" {
				resolved = filepath.Join(filepath.Dir(file), path)
			}
			info, err := os.Stat(resolved)
			if !assert.NoError(t, err, "%s links to %s, which does not exist", file, target) || anchor == "" {
				continue
			}
			if info.IsDir() || !strings.HasSuffix(resolved, ".md") {
				t.Errorf("%s links to %s: an anchor into a file that is not Markdown", file, target)
				continue
			}
			headings, err := os.ReadFile(resolved)
			require.NoError(t, err)
			assert.Contains(t, anchors(string(headings)), anchor, "%s links to %s: no such heading", file, target)
		}
	}
}

// docFiles returns the README and the pages of docs/.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(docsGlob)
	require.NoError(t, err)
	return append([]string{readme}, pages...)
}

// block is a fenced code block of a Markdown page.
type block struct {
	info   string // the word after the fence, such as "go" or "sh"
	line   int    // the line of its first line of code
	body   string // its lines, without the fence's indentation
	closed bool
}

// codeBlocks returns the fenced code blocks of text, which may be indented
// (inside a list item).
func codeBlocks(text string) []block {
	var blocks []block
	var cur *block
	indent := ""
	n := 0
	for line := range strings.Lines(text) {
		n++
		trimmed := strings.TrimSpace(line)
		if cur == nil {
			if rest, ok := strings.CutPrefix(trimmed, "```"); ok {
				info, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
				blocks = append(blocks, block{info: info, line: n + 1})
				cur = &blocks[len(blocks)-1]
				indent = line[:len(line)-len(strings.TrimLeftFunc(line, unicode.IsSpace))]
			}
			continue
		}
		if trimmed == "```" {
			cur.closed = true
			cur = nil
			continue
		}
		cur.body += strings.TrimPrefix(line, indent)
	}
	return blocks
}

// withoutCodeBlocks returns text with the lines of its code blocks blank,
// so that what looks like a link in code is not taken for one.
func withoutCodeBlocks(text string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			b.WriteString("\n")
			continue
		}
		if in {
			b.WriteString("\n")
			continue
		}
		b.WriteString(line)
	}
	return b.String()
}

// anchors returns the anchors GitHub gives the headings of a Markdown page:
// the heading's text in lower case, without punctuation but hyphens and
// underscores, spaces made hyphens.
func anchors(text string) []string {
	var out []string
	for line := range strings.Lines(withoutCodeBlocks(text)) {
		rest, ok := strings.CutPrefix(line, "#")
		if !ok {
			continue
		}
		heading := strings.TrimSpace(strings.TrimLeft(rest, "#"))
		var b strings.Builder
		for _, r := range strings.ToLower(heading) {
			switch {
			case r == ' ':
				b.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				b.WriteRune(r)
			}
		}
		out = append(out, b.String())
	}
	return out
}

// readSnippets returns the Go snippets of the Markdown file at path. A Go
// block that is not a whole Go file (from a package clause on), a block
// labelled "golang" or "Go", and a block never closed are errors: a
// snippet is never skipped.
func readSnippets(path string) ([]snippet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var snippets []snippet
	for _, b := range codeBlocks(string(data)) {
		at := fmt.Sprintf("%s:%d", path, b.line-1)
		switch {
		case !b.closed:
			return nil, fmt.Errorf("%s: the code block is never closed", at)
		case b.info != "go" && (strings.EqualFold(b.info, "go") || strings.EqualFold(b.info, "golang")):
			return nil, fmt.Errorf("%s: a code block labelled %q: label Go code \"go\", so that it is compiled", at, b.info)
		case b.info != "go":
			continue
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "", b.body, parser.PackageClauseOnly); err != nil {
			return nil, fmt.Errorf("%s: a Go snippet must be a whole file, from its package clause on, "+
				"so that it compiles as it is shown: %w", at, err)
		}
		snippets = append(snippets, snippet{file: path, line: b.line, code: b.body})
	}
	return snippets, nil
}

// buildSnippets builds snippets with one go command for each module of
// [snippetModules] that has some to build, and returns what the commands
// printed, and an error if one of them failed. Each snippet is a package
// of its own under snippetDir, seen by the go command through -overlay,
// its file starting with a //line directive, so that the compiler names
// the Markdown file and line.
func buildSnippets(t *testing.T, snippets []snippet) (string, error) {
	t.Helper()
	tmp := t.TempDir()
	byModule := map[string][]snippet{}
	for _, s := range snippets {
		mod, err := moduleFor(s)
		if err != nil {
			return "", err
		}
		byModule[mod] = append(byModule[mod], s)
	}
	var out strings.Builder
	var failed []string
	for _, mod := range snippetModules {
		if len(byModule[mod]) == 0 {
			continue
		}
		dir, err := filepath.Abs(mod)
		if err != nil {
			return "", err
		}
		if _, err := os.Stat(filepath.Join(dir, snippetDir)); err == nil {
			return "", fmt.Errorf("%s exists: the snippets' packages would mix with it", filepath.Join(mod, snippetDir))
		}
		replace := map[string]string{}
		var pkgs []string
		for i, s := range byModule[mod] {
			name := "snippet.go"
			if f, err := parser.ParseFile(token.NewFileSet(), "", s.code, parser.PackageClauseOnly); err == nil &&
				strings.HasSuffix(f.Name.Name, "_test") {
				name = "snippet_test.go"
			}
			pkg := fmt.Sprintf("%s/s%03d_%s_%d", snippetDir, i, slug(s.file), s.line)
			real := filepath.Join(tmp, fmt.Sprintf("%s-%03d.go", slug(mod), i))
			// The directive names the position of the next line: the
			// snippet's first.
			src := fmt.Sprintf("//line %s:%d:1\n%s", s.file, s.line, s.code)
			if err := os.WriteFile(real, []byte(src), 0o600); err != nil {
				return "", err
			}
			replace[filepath.Join(dir, pkg, name)] = real
			pkgs = append(pkgs, "./"+pkg)
		}
		overlay, err := json.Marshal(map[string]any{"Replace": replace})
		if err != nil {
			return "", err
		}
		overlayFile := filepath.Join(tmp, slug(mod)+"-overlay.json")
		if err := os.WriteFile(overlayFile, overlay, 0o600); err != nil {
			return "", err
		}
		// go test -c compiles a package without tests, and a test package
		// with its tests; vet is off, since vet runs in the package's
		// directory, which only the overlay has.
		bin := filepath.Join(tmp, "bin-"+slug(mod))
		if err := os.Mkdir(bin, 0o700); err != nil {
			return "", err
		}
		args := append([]string{"test", "-c", "-vet=off", "-o", bin + string(filepath.Separator), "-overlay", overlayFile}, pkgs...)
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		b, err := cmd.CombinedOutput()
		fmt.Fprintf(&out, "in module %s, go test -c of %d snippets:\n%s", mod, len(pkgs), b)
		if err != nil {
			failed = append(failed, fmt.Sprintf("in %s: %v", mod, err))
		}
	}
	if failed != nil {
		return out.String(), fmt.Errorf("%s", strings.Join(failed, "; "))
	}
	return out.String(), nil
}

// moduleFor returns the first module of [snippetModules] that requires
// every module s imports. A snippet may not import an internal package of
// the SDK: it shows what a user of the SDK can write.
func moduleFor(s snippet) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), "", s.code, parser.ImportsOnly)
	if err != nil {
		return snippetModules[0], nil // the compiler says what is wrong, at its line
	}
	var paths []string
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if strings.HasPrefix(path, sdkModule+"/") && (strings.Contains(path, "/internal/") || strings.HasSuffix(path, "/internal")) {
			return "", fmt.Errorf("%s: the snippet imports %s, which a user of the SDK cannot import", s, path)
		}
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			paths = append(paths, path)
		}
	}
	for _, mod := range snippetModules {
		required, err := requiredModules(mod)
		if err != nil {
			return "", err
		}
		if !slices.ContainsFunc(paths, func(p string) bool {
			return !slices.ContainsFunc(required, func(m string) bool { return p == m || strings.HasPrefix(p, m+"/") })
		}) {
			return mod, nil
		}
	}
	return "", fmt.Errorf("%s: no module of the repository (%s) requires all of %s",
		s, strings.Join(snippetModules, ", "), strings.Join(paths, ", "))
}

// requiredModules returns the module of go.mod in dir and the modules it
// requires. (golang.org/x/mod would parse it, but is no requirement of the
// SDK's own.)
func requiredModules(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var mods []string
	inRequire := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0:
		case inRequire && fields[0] == ")":
			inRequire = false
		case inRequire:
			mods = append(mods, fields[0])
		case fields[0] == "module" && len(fields) > 1:
			mods = append(mods, fields[1])
		case fields[0] == "require" && len(fields) > 1 && fields[1] == "(":
			inRequire = true
		case fields[0] == "require" && len(fields) > 2:
			mods = append(mods, fields[1])
		}
	}
	return mods, sc.Err()
}

// slug makes a name fit for a directory and an import path of s, such as
// "docs_sessions_md" of "docs/sessions.md".
func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToLower(r)
		}
		return '_'
	}, strings.TrimPrefix(s, "./"))
}
