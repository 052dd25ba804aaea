package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Limits on the spec that specgen reads. A rendering of a large Django REST
// Framework project (200 operations) is under 1 MiB and some 20 levels
// deep; the generator needs minutes and gigabytes well before these.
const (
	maxSpecBytes = 16 << 20
	maxDepth     = 100
	// maxNodes and maxExpanded cap the nodes of the spec, and the bytes of
	// their text, with its YAML aliases expanded, which a few lines of
	// anchors can make exponential.
	maxNodes    = 4_000_000
	maxExpanded = 64 << 20
	// maxSeparators caps what a spec holds before it is parsed: parsing
	// costs a node per item, some 150 bytes each, and a flat list of
	// millions takes seconds and gigabytes. A spec of 200 operations has
	// tens of thousands.
	maxSeparators = 2_000_000
)

// readSpec reads the spec at path (YAML or JSON) as a YAML node, and refuses
// one over maxSpecBytes, deeper than maxDepth, with more than maxNodes
// nodes, or that is not OpenAPI 3.
func readSpec(path string) (*yaml.Node, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("specgen: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("specgen: reading %s: %w", path, err)
	}
	if len(data) > maxSpecBytes {
		return nil, fmt.Errorf("specgen: %s is larger than %d MiB, more than any API's spec needs: specgen does not read it",
			path, maxSpecBytes>>20)
	}
	if n := separators(data); n > maxSeparators {
		return nil, fmt.Errorf("specgen: %s has more than %d separators (',', ':', '[', '{' and line breaks), "+
			"more than any API's spec needs: specgen does not read it", path, maxSeparators)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("specgen: %s is not YAML or JSON: %w", path, err)
	}
	if err := checkShape(path, &root); err != nil {
		return nil, err
	}
	doc := docNode(&root)
	if doc == nil || doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("specgen: %s is not an OpenAPI document: it is not a mapping", path)
	}
	if v := mapValue(doc, "openapi"); v == nil || !strings.HasPrefix(v.Value, "3.") {
		return nil, fmt.Errorf("specgen: %s is not an OpenAPI 3 document (it has no \"openapi: 3.x\"); "+
			"drf-spectacular renders OpenAPI 3", path)
	}
	return &root, nil
}

// separators counts what can start a node in YAML or JSON: every node but
// the first follows one.
func separators(data []byte) int {
	n := 0
	for _, c := range data {
		switch c {
		case ',', ':', '[', '{', '\n':
			n++
		}
	}
	return n
}

// errTooMany and errTooLarge stop the walk of checkShape.
var (
	errTooMany  = errors.New("too many nodes")
	errTooLarge = errors.New("too many bytes")
)

// checkShape refuses a document nested deeper than maxDepth, or with more
// than maxNodes nodes or maxExpanded bytes of text, aliases expanded. Only
// this walk follows aliases: it stops at the first limit, so a document
// built to explode does no harm.
func checkShape(path string, root *yaml.Node) error {
	nodes, size := 0, 0
	var at []string // the keys from the top, for the message
	var walk func(n *yaml.Node, depth int) error
	walk = func(n *yaml.Node, depth int) error {
		if nodes++; nodes > maxNodes {
			return errTooMany
		}
		if size += len(n.Value); size > maxExpanded {
			return errTooLarge
		}
		if depth > maxDepth {
			shown := jsonPath(at[:min(len(at), 8)])
			if len(at) > 8 {
				shown += "..."
			}
			return fmt.Errorf("specgen: %s:%d: the spec nests deeper than %d levels (at %s); no API's spec needs that many, "+
				"and the generator would take minutes and gigabytes on it", path, n.Line, maxDepth, shown)
		}
		switch {
		case n.Kind == yaml.AliasNode && n.Alias != nil:
			return walk(n.Alias, depth+1)
		case n.Kind == yaml.DocumentNode:
			for _, c := range n.Content {
				if err := walk(c, depth); err != nil {
					return err
				}
			}
		case n.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				at = append(at, n.Content[i].Value)
				err := walk(n.Content[i+1], depth+1)
				at = at[:len(at)-1]
				if err != nil {
					return err
				}
			}
		default:
			for i, c := range n.Content {
				at = append(at, strconv.Itoa(i))
				err := walk(c, depth+1)
				at = at[:len(at)-1]
				if err != nil {
					return err
				}
			}
		}
		return nil
	}
	switch err := walk(root, 0); {
	case errors.Is(err, errTooMany):
		return fmt.Errorf("specgen: %s has more than %d nodes once its YAML aliases are expanded: specgen does not read it",
			path, maxNodes)
	case errors.Is(err, errTooLarge):
		return fmt.Errorf("specgen: %s holds more than %d MiB of text once its YAML aliases are expanded: specgen does not read it",
			path, maxExpanded>>20)
	default:
		return err
	}
}

// docNode returns the top mapping of a document node.
func docNode(root *yaml.Node) *yaml.Node {
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		return root.Content[0]
	}
	return root
}

// mapValue returns the value of key in the mapping m, or nil.
func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
