// Command specgen prepares the spec for the generator, and checks what the
// generator wrote, in go generate (see gen.go):
//
//	go run ./internal/specgen -overlay overlay.yaml -out api openapi.yaml
//	go tool oapi-codegen -config oapi-codegen.yaml api/openapi.gen.json
//	go run ./internal/specgen -overlay overlay.yaml -check api/api.gen.go
//
// First it reads the spec itself, and refuses one that is too large or too
// deep, or that refers outside itself, before anything else parses it. It
// applies the overlay action by action, and stops with a message that names
// the action, its reason and what to do when one no longer matches. It
// finds SimpleJWT's refresh view by the shape of its bodies and checks that
// the overlay's refresh action targets it; it refuses a $ref to nothing and
// a path the client could not fill, naming the operation and an overlay
// action that fixes it. Then it writes, into the -out directory, the spec as
// corrected (openapi.gen.json: required write-only fields as plain values,
// request bodies without read-only fields), from which oapi-codegen
// generates the client, and security.gen.go: which operations take the
// session's access token, in which scheme, and the refresh path. Messages
// about what it cannot serve go to stderr. With -check, it fails unless the
// generated client has what the wrapper relies on.
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
	overlayPath := flag.String("overlay", "overlay.yaml", "the overlay of corrections to the spec")
	out := flag.String("out", "api", "the directory of the generated package")
	pkg := flag.String("package", "api", "the name of the generated package")
	check := flag.String("check", "", "check the generated client in this file, instead of preparing the spec")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: specgen [-overlay overlay.yaml] [-out api] openapi.yaml\n       specgen [-overlay overlay.yaml] -check api/api.gen.go")
		flag.PrintDefaults()
	}
	flag.Parse()
	var err error
	switch {
	case *check != "" && flag.NArg() == 0:
		err = checkClient(*check, *overlayPath)
	case *check == "" && flag.NArg() == 1:
		err = run(flag.Arg(0), *overlayPath, *out, *pkg, os.Stderr)
	default:
		flag.Usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// specFile is the corrected spec that run writes for the generator.
const specFile = "openapi.gen.json"

// run prepares spec with the overlay at overlayPath for the generator, and
// writes the corrected spec and security.gen.go, of package pkg, into the
// directory out. It writes nothing unless every check passes.
func run(spec, overlayPath, out, pkg string, stderr io.Writer) error {
	g, err := prepare(spec, overlayPath)
	if err != nil {
		return err
	}
	security, err := renderTable(pkg, spec, g.overlay.path, g.table)
	if err != nil {
		return err
	}
	corrected, err := g.doc.MarshalJSON()
	if err != nil {
		return fmt.Errorf("specgen: encoding the corrected spec: %w", err)
	}
	corrected, err = indentJSON(corrected)
	if err != nil {
		return err
	}
	for _, note := range g.notes {
		fmt.Fprintln(stderr, note)
	}
	if err := os.WriteFile(filepath.Join(out, specFile), corrected, 0o644); err != nil {
		return fmt.Errorf("specgen: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "security.gen.go"), security, 0o644); err != nil {
		return fmt.Errorf("specgen: %w", err)
	}
	return nil
}

// checkClient fails unless the generated client in path has what the
// wrapper relies on.
func checkClient(path, overlayPath string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("specgen: %w", err)
	}
	return checkContract(overlayPath, src)
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
