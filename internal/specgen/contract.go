package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"
)

// loadDoc loads the spec's YAML, whose references all stay inside it
// (checkRefs), as OpenAPI.
func loadDoc(spec string, root *yaml.Node) (*openapi3.T, error) {
	data, err := yaml.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("specgen: encoding %s: %w", spec, err)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	// As oapi-codegen's command loads it.
	loader.IncludeOrigin = true
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("specgen: loading %s: %w", spec, err)
	}
	return doc, nil
}

// indentJSON indents a spec's JSON, one key a line, so that a change of the
// spec shows as a change of a few lines of the file.
func indentJSON(data []byte) ([]byte, error) {
	var b bytes.Buffer
	if err := json.Indent(&b, data, "", "  "); err != nil {
		return nil, fmt.Errorf("specgen: encoding the corrected spec: %w", err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// checkContract fails unless src, the generated client, has what the
// wrapper relies on, whatever the spec names its schemas: RefreshCreate and
// RefreshCreateWithResponse, TokenRefreshRequest{Refresh string} and
// TokenRefresh{Access, Refresh string}.
func checkContract(overlayPath string, src []byte) error {
	f, err := parser.ParseFile(token.NewFileSet(), "api.gen.go", src, parser.SkipObjectResolution)
	if err != nil {
		return fmt.Errorf("specgen: the generated client does not parse: %w", err)
	}
	want := map[string]map[string]string{
		"TokenRefreshRequest": {"Refresh": "string"},
		"TokenRefresh":        {"Access": "string", "Refresh": "string"},
	}
	funcs := map[string]bool{"RefreshCreate": false, "RefreshCreateWithResponse": false}
	var missing []string
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if _, ok := funcs[d.Name.Name]; ok && d.Recv != nil {
				funcs[d.Name.Name] = true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				ts, ok := s.(*ast.TypeSpec)
				if !ok || want[ts.Name.Name] == nil {
					continue
				}
				st, _ := ts.Type.(*ast.StructType)
				fields := want[ts.Name.Name]
				delete(want, ts.Name.Name)
				if st == nil {
					missing = append(missing, ts.Name.Name+" is not a struct")
					continue
				}
				got := map[string]string{}
				for _, fl := range st.Fields.List {
					if id, ok := fl.Type.(*ast.Ident); ok {
						for _, n := range fl.Names {
							got[n.Name] = id.Name
						}
					}
				}
				for name, typ := range fields {
					if got[name] != typ {
						missing = append(missing, fmt.Sprintf("%s.%s is not a %s", ts.Name.Name, name, typ))
					}
				}
			}
		}
	}
	for name := range want {
		missing = append(missing, "there is no type "+name)
	}
	for _, name := range []string{"RefreshCreate", "RefreshCreateWithResponse"} {
		if !funcs[name] {
			missing = append(missing, "there is no method "+name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("specgen: the generated client lacks what the wrapper relies on: %s. %s defines these "+
			"(schemas TokenRefreshRequest and TokenRefresh, and the refresh action's operationId %s): restore its actions",
			strings.Join(missing, "; "), overlayPath, refreshOperationID)
	}
	return nil
}
