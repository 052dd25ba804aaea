package main

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// maxProblems caps the problems one message lists.
const maxProblems = 10

// checkRefs refuses every $ref of the spec that leaves the file (another
// file or a URL: specgen never reads or fetches one), and every $ref inside
// it that resolves to nothing, naming where each one is and, for an
// operation, which. It runs on the spec with the overlay applied, so an
// overlay action can fix what it finds.
func checkRefs(spec string, root *yaml.Node) error {
	doc := docNode(root)
	where := func(at []string) string { return where(doc, at) }
	var outside, missing []string
	var walk func(n *yaml.Node, at []string)
	walk = func(n *yaml.Node, at []string) {
		switch n.Kind {
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, append(at, strconv.Itoa(i)))
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				key, val := n.Content[i].Value, n.Content[i+1]
				if key == "$ref" && val.Kind == yaml.ScalarNode {
					ref := val.Value
					switch {
					case !strings.HasPrefix(ref, "#"):
						outside = append(outside, fmt.Sprintf("%s:%d: %s refers to %s, outside the spec",
							spec, val.Line, where(at), ref))
					case resolvePointer(doc, ref) == nil:
						missing = append(missing, missingRef(spec, val.Line, where(at), at, ref))
					}
					continue
				}
				if isData(key, at) {
					continue
				}
				walk(val, append(at, key))
			}
		}
	}
	walk(doc, nil)
	if len(outside) > 0 {
		return fmt.Errorf("specgen: %s refers outside itself; specgen reads references inside the spec only "+
			"(\"#/components/...\") and never reads another file or fetches a URL:\n%s\n"+
			"Put what they name into the spec, or replace each with an overlay action, and run make generate again.",
			spec, listProblems(outside))
	}
	if len(missing) > 0 {
		return fmt.Errorf("specgen: %s refers to definitions it does not have:\n%s", spec, listProblems(missing))
	}
	return nil
}

// isData reports whether the value of key, under at, is data rather than
// spec: examples, defaults, enums and extensions, where "$ref" is a word.
func isData(key string, at []string) bool {
	switch key {
	case "example", "default", "enum", "const":
		return true
	case "value":
		return len(at) >= 2 && at[len(at)-2] == "examples"
	}
	return strings.HasPrefix(key, "x-")
}

// missingRef describes a $ref that resolves to nothing, with the overlay
// action that defines it where it names a component.
func missingRef(spec string, line int, place string, at []string, ref string) string {
	msg := fmt.Sprintf("%s:%d: %s refers to %s, which the spec does not define", spec, line, place, ref)
	parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
	if len(parts) != 3 || parts[0] != "components" {
		return msg + "; point it at a definition the spec has, with an overlay action on " + jsonPath(at)
	}
	name := unescapePointer(parts[2])
	var body string
	switch parts[1] {
	case "schemas":
		body = "type: object"
	case "responses":
		body = "description: ''"
	case "requestBodies":
		body = "content:\n  application/json:\n    schema:\n      type: object"
	default:
		return msg + "; define it in the spec, or point the reference elsewhere with an overlay action on " + jsonPath(at)
	}
	return msg + "; define it, such as with this action in overlay.yaml:\n" + fmt.Sprintf(
		"- target: $\n  description: The spec refers to %s but does not define it.\n  update:\n    components:\n      %s:\n        %s:\n%s",
		ref, parts[1], yamlKey(name), indent(body, 10))
}

// where names the place at in doc: an operation, such as "POST
// /api/v1/runs/ (runs_create)", or a JSON path.
func where(doc *yaml.Node, at []string) string {
	if len(at) >= 3 && at[0] == "paths" && isMethod(at[2]) {
		s := strings.ToUpper(at[2]) + " " + at[1]
		if id := mapValue(mapValue(mapValue(mapValue(doc, "paths"), at[1]), at[2]), "operationId"); id != nil && id.Value != "" {
			s += " (" + id.Value + ")"
		}
		return s
	}
	return jsonPath(at)
}

// jsonPath renders at as an overlay target, such as
// $.components.schemas['Project'].
func jsonPath(at []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range at {
		if isIdent(k) {
			b.WriteString("." + k)
		} else {
			b.WriteString("['" + strings.ReplaceAll(k, "'", `\'`) + "']")
		}
	}
	return b.String()
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// yamlKey quotes s where YAML would read it as something else.
func yamlKey(s string) string {
	if isIdent(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// resolvePointer returns the node that ref, such as
// "#/components/schemas/Project", names in doc, or nil.
func resolvePointer(doc *yaml.Node, ref string) *yaml.Node {
	frag, err := url.PathUnescape(strings.TrimPrefix(ref, "#"))
	if err != nil {
		return nil
	}
	if frag == "" {
		return doc
	}
	if !strings.HasPrefix(frag, "/") {
		return nil
	}
	n := doc
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = unescapePointer(tok)
		switch n.Kind {
		case yaml.MappingNode:
			n = mapValue(n, tok)
		case yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = n.Content[i]
		default:
			return nil
		}
		if n == nil {
			return nil
		}
	}
	return n
}

func unescapePointer(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
}

func isMethod(s string) bool {
	switch s {
	case "get", "put", "post", "delete", "options", "head", "patch", "trace":
		return true
	}
	return false
}

// listProblems lists problems one a line, indented, up to maxProblems.
func listProblems(problems []string) string {
	var b strings.Builder
	for i, p := range problems {
		if i == maxProblems {
			fmt.Fprintf(&b, "  ... and %d more\n", len(problems)-maxProblems)
			break
		}
		b.WriteString(indent(p, 2) + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// indent indents every line of s by n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n")
}
