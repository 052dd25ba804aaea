// Command specgen runs before oapi-codegen in go generate. It checks that
// every action of the overlay still matches the spec, and stops with a
// message that names the action, its reason and what to do when one does
// not; then it writes the table of which operations take the bearer token.
//
//	go run ./internal/specgen -spec openapi.yaml -overlay overlay.yaml -out api/security.gen.go
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	spec := flag.String("spec", "openapi.yaml", "the OpenAPI spec")
	overlayPath := flag.String("overlay", "overlay.yaml", "the overlay of corrections")
	out := flag.String("out", "api/security.gen.go", "the Go file to write")
	pkg := flag.String("package", "api", "the package of the Go file")
	flag.Parse()
	if err := run(*spec, *overlayPath, *out, *pkg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(spec, overlayPath, out, pkg string) error {
	if err := checkOverlay(spec, overlayPath); err != nil {
		return err
	}
	ops, declared, err := operations(spec, overlayPath)
	if err != nil {
		return err
	}
	src, err := render(pkg, spec, overlayPath, ops, declared)
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}
