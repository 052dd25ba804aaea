// Package aisquare is the root of the AISquare Studio Go SDK. Import
// [github.com/aisquare-studio/aisquare-go/wrapper] to use it; the generated
// client lives in [github.com/aisquare-studio/aisquare-go/api].
package aisquare

// The generated code imports github.com/oapi-codegen/runtime as soon as the
// spec has path, query or form parameters. Requiring it here keeps go.mod
// at a release that allows the Go version in go.mod, so regenerating from a
// larger spec never makes go mod tidy pick one that raises it.
import _ "github.com/oapi-codegen/runtime"

// specgen checks every overlay action against the spec first, and writes
// api/security.gen.go: which operations take the bearer token.
//go:generate go run ./internal/specgen -spec openapi.yaml -overlay overlay.yaml -out api/security.gen.go
//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
