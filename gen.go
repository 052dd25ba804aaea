// Package aisquare is the root of the AISquare Studio Go SDK. Import
// [github.com/aisquare-studio/aisquare-go/wrapper] to use it; the generated
// client lives in [github.com/aisquare-studio/aisquare-go/api].
package aisquare

// The generated code imports github.com/oapi-codegen/runtime as soon as the
// spec has path, query or form parameters, and
// github.com/oapi-codegen/nullable as soon as it has a nullable field.
// Requiring them here keeps go.mod at releases that allow the Go version in
// go.mod, so regenerating from a larger spec never makes go mod tidy pick
// one that raises it, or look one up.
import (
	_ "github.com/oapi-codegen/nullable"
	_ "github.com/oapi-codegen/runtime"
)

// specgen checks the spec and every overlay action, and writes the spec as
// corrected (api/openapi.gen.json) and api/security.gen.go: which operations
// take the session's token, its scheme, and the refresh path. oapi-codegen
// generates the client from the corrected spec; specgen then checks that the
// client has what the wrapper relies on.
//go:generate go run ./internal/specgen -overlay overlay.yaml -out api openapi.yaml
//go:generate go tool oapi-codegen -config oapi-codegen.yaml api/openapi.gen.json
//go:generate go run ./internal/specgen -overlay overlay.yaml -check api/api.gen.go
