package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/oapi-codegen/oapi-codegen/v2/pkg/util"
	"github.com/speakeasy-api/openapi/overlay"
	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// staleActionError is an overlay action whose target the spec no longer has.
type staleActionError struct {
	overlayPath, spec string
	index, total      int
	action            overlay.Action
}

func (e *staleActionError) Error() string {
	kind := "update"
	if e.action.Remove {
		kind = "remove"
	}
	reason := strings.Join(strings.Fields(e.action.Description), " ")
	if reason == "" {
		reason = "(none given: give every action a description)"
	}
	return fmt.Sprintf(`%s: action %d of %d (%s) matches nothing in %s
  target: %s
  reason: %s
  what to do: if %s now has this right by itself (upstream fixed the defect),
    delete the action; if upstream renamed or moved what it corrects, point
    the target at the new place. Then run make generate again.`,
		e.overlayPath, e.index+1, e.total, kind, e.spec, e.action.Target, reason, e.spec)
}

// checkOverlay applies the overlay's actions one by one to the spec, as
// oapi-codegen loads it, and fails on the first whose target matches
// nothing. oapi-codegen's own strict mode fails too, but names only the
// selector.
func checkOverlay(spec, overlayPath string) error {
	o, err := loader.LoadOverlay(overlayPath)
	if err != nil {
		return fmt.Errorf("%s: %w", overlayPath, err)
	}
	if err := o.Validate(); err != nil {
		return fmt.Errorf("%s is not a valid overlay: %w", overlayPath, err)
	}
	root, err := loadNode(spec)
	if err != nil {
		return err
	}
	for i, action := range o.Actions {
		p, err := o.NewPath(action.Target, nil)
		if err != nil {
			return fmt.Errorf("%s: action %d of %d: target %q: %w", overlayPath, i+1, len(o.Actions), action.Target, err)
		}
		if len(p.Query(root)) == 0 {
			return &staleActionError{overlayPath: overlayPath, spec: spec, index: i, total: len(o.Actions), action: action}
		}
		one := *o
		one.Actions = []overlay.Action{action}
		if err := one.ApplyTo(root); err != nil {
			return fmt.Errorf("%s: action %d of %d: %w", overlayPath, i+1, len(o.Actions), err)
		}
	}
	return nil
}

// loadNode loads spec as oapi-codegen does before it applies an overlay:
// parsed as OpenAPI, then written back as YAML.
func loadNode(spec string) (*yaml.Node, error) {
	doc, err := util.LoadSwagger(spec)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", spec, err)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", spec, err)
	}
	var root yaml.Node
	if err := yaml.NewDecoder(&buf).Decode(&root); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", spec, err)
	}
	return &root, nil
}
