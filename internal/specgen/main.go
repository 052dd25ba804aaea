// Command specgen generates the api package from the spec, in go generate:
//
//	go run ./internal/specgen -config oapi-codegen.yaml openapi.yaml
//
// It reads the spec itself, and refuses one that is too large or too deep,
// or that refers outside itself, before anything else parses it. It applies
// the overlay that oapi-codegen.yaml names action by action, and stops with
// a message that names the action, its reason and what to do when one no
// longer matches. It finds SimpleJWT's refresh view by the shape of its
// bodies and checks that the overlay's refresh action targets it; it refuses
// a $ref to nothing and a path the client could not fill, naming the
// operation and an overlay action that fixes it. Then it writes the client
// with oapi-codegen's library (config's output, such as api/api.gen.go),
// with required write-only fields as plain values and request bodies
// without read-only fields, and beside it security.gen.go: which operations
// take the session's access token, in which scheme, and the refresh path.
// Messages about what it cannot serve go to stderr.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/getkin/kin-openapi/openapi3"
)

func main() {
	configPath := flag.String("config", "oapi-codegen.yaml", "the generator's config, in oapi-codegen's format")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: specgen [-config oapi-codegen.yaml] openapi.yaml")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *configPath, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run generates the client of spec as the config at configPath says, and
// security.gen.go beside it. It writes nothing unless every check passes.
func run(spec, configPath string, stderr io.Writer) error {
	cfg, err := readConfig(configPath)
	if err != nil {
		return err
	}
	g, err := prepare(spec, cfg.OutputOptions.Overlay.Path)
	if err != nil {
		return err
	}
	security, err := renderTable(cfg.PackageName, spec, g.overlay.path, g.table)
	if err != nil {
		return err
	}
	client, err := generateClient(spec, cfg, g.doc)
	if err != nil {
		return err
	}
	if err := checkContract(g.overlay.path, client); err != nil {
		return err
	}
	for _, note := range g.notes {
		fmt.Fprintln(stderr, note)
	}
	if err := os.WriteFile(cfg.Output, client, 0o644); err != nil {
		return fmt.Errorf("specgen: %w", err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfg.Output), "security.gen.go"), security, 0o644); err != nil {
		return fmt.Errorf("specgen: %w", err)
	}
	return nil
}

// generation is the spec, checked and corrected, ready for the generator.
type generation struct {
	overlay *overlayFile
	doc     *openapi3.T
	table   table
	notes   []string // what the SDK cannot serve, for stderr
}

// prepare reads spec, applies the overlay at overlayPath, and checks them.
func prepare(spec, overlayPath string) (*generation, error) {
	root, err := readSpec(spec)
	if err != nil {
		return nil, err
	}
	f, err := loadOverlay(overlayPath)
	if err != nil {
		return nil, err
	}

	// The spec as corrected, but for the refresh action: its update makes
	// the operation it targets look like a refresh view, whatever it is.
	corrected := cloneNode(root)
	if err := f.apply(spec, corrected, f.refresh); err != nil {
		return nil, err
	}
	if err := checkRefs(spec, corrected); err != nil {
		return nil, err
	}
	views, err := loadDoc(spec, corrected)
	if err != nil {
		return nil, err
	}
	if err := checkPaths(spec, views); err != nil {
		return nil, err
	}
	sec, err := readSecurity(spec, views)
	if err != nil {
		return nil, err
	}
	ops, notes := operations(spec, views, sec)
	refreshNotes, err := chooseRefresh(spec, f, views, ops)
	if err != nil {
		return nil, err
	}

	if err := f.apply(spec, root, -1); err != nil {
		return nil, err
	}
	if err := checkRefs(spec, root); err != nil {
		return nil, err
	}
	doc, err := loadDoc(spec, root)
	if err != nil {
		return nil, err
	}
	notes = append(notes, splitRequests(spec, doc)...)
	plainWriteOnly(doc)
	return &generation{
		overlay: f,
		doc:     doc,
		table:   table{ops: ops, scheme: sec.prefix, refreshPath: f.refreshPath},
		notes:   append(refreshNotes, notes...),
	}, nil
}
