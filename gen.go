// Package aisquare is the root of the AISquare Studio Go SDK. Import
// [github.com/aisquare-studio/aisquare-go/wrapper] to use it; the generated
// client lives in [github.com/aisquare-studio/aisquare-go/api].
package aisquare

//go:generate go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
