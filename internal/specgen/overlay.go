package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/speakeasy-api/openapi/overlay"
	"github.com/speakeasy-api/openapi/overlay/loader"
	"gopkg.in/yaml.v3"
)

// refreshOperationID is the operationId the overlay gives the refresh view
// the session calls: the generated client names it RefreshCreate.
const refreshOperationID = "refresh-create"

// overlayFile is the overlay of corrections, loaded.
type overlayFile struct {
	path  string
	o     *overlay.Overlay
	lines []int // the line of each action's target, 0 where unknown
	// refresh is the index of the refresh action: the one that gives an
	// operation the operationId refresh-create. refreshPath is the path its
	// target names.
	refresh     int
	refreshPath string
}

// refreshTarget matches the target of the refresh action.
var refreshTarget = regexp.MustCompile(`^\$\.paths\[(?:'([^']*)'|"([^"]*)")\]\.post$`)

// refreshTargetFor is the refresh action's target for path.
func refreshTargetFor(path string) string {
	return "$.paths['" + path + "'].post"
}

func loadOverlay(path string) (*overlayFile, error) {
	o, err := loader.LoadOverlay(path)
	if err != nil {
		return nil, fmt.Errorf("specgen: %s: %w", path, err)
	}
	if err := o.Validate(); err != nil {
		return nil, fmt.Errorf("specgen: %s is not a valid overlay: %w", path, err)
	}
	f := &overlayFile{path: path, o: o, lines: targetLines(path, len(o.Actions)), refresh: -1}
	for i, a := range o.Actions {
		id := mapValue(&a.Update, "operationId")
		if a.Remove || id == nil || id.Value != refreshOperationID {
			continue
		}
		if f.refresh >= 0 {
			return nil, fmt.Errorf("specgen: %s:%d: a second action names an operation %s; "+
				"one refresh view is the session's (the first is at line %d): delete one of them",
				path, f.lines[i], refreshOperationID, f.lines[f.refresh])
		}
		f.refresh = i
	}
	if f.refresh < 0 {
		return nil, fmt.Errorf("specgen: %s has no action that names the refresh operation: the wrapper calls "+
			"the spec's SimpleJWT refresh view as RefreshCreate. Add one, as the SDK's overlay.yaml has it, such as:\n%s",
			path, indent(refreshActionSketch("/api/v1/token/refresh/"), 2))
	}
	m := refreshTarget.FindStringSubmatch(o.Actions[f.refresh].Target)
	if m == nil {
		return nil, fmt.Errorf("specgen: %s:%d: the refresh action's target is %s; it must name the POST of the refresh "+
			"view's path, such as %s", path, f.lines[f.refresh], o.Actions[f.refresh].Target, refreshTargetFor("/api/v1/token/refresh/"))
	}
	f.refreshPath = m[1] + m[2]
	return f, nil
}

// refreshActionSketch is the start of a refresh action for path.
func refreshActionSketch(path string) string {
	return "- target: " + refreshTargetFor(path) + "\n  update:\n    operationId: " + refreshOperationID + "\n    ..."
}

// targetLines returns the line of each action's target in the overlay at
// path, for messages; 0 where it cannot tell.
func targetLines(path string, n int) []int {
	lines := make([]int, n)
	data, err := os.ReadFile(path)
	if err != nil {
		return lines
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return lines
	}
	actions := mapValue(docNode(&root), "actions")
	if actions == nil || actions.Kind != yaml.SequenceNode {
		return lines
	}
	for i, a := range actions.Content {
		if t := mapValue(a, "target"); t != nil && i < n {
			lines[i] = t.Line
		}
	}
	return lines
}

// apply applies the actions to the spec's root one by one, all but the one
// at skip (-1 for none), and fails on the first update whose target matches
// nothing. A remove that matches nothing has nothing to do: the overlay
// removes the spec's own definitions of what it defines, which a spec may
// or may not have.
func (f *overlayFile) apply(spec string, root *yaml.Node, skip int) error {
	for i, action := range f.o.Actions {
		if i == skip {
			continue
		}
		p, err := f.o.NewPath(action.Target, nil)
		if err != nil {
			return fmt.Errorf("specgen: %s:%d: action %d of %d: target %q: %w", f.path, f.lines[i], i+1, len(f.o.Actions), action.Target, err)
		}
		if !action.Remove && len(p.Query(root)) == 0 {
			return &staleActionError{overlayPath: f.path, spec: spec, line: f.lines[i], index: i, total: len(f.o.Actions), action: action}
		}
		one := *f.o
		one.Actions = []overlay.Action{action}
		if err := one.ApplyTo(root); err != nil {
			return fmt.Errorf("specgen: %s:%d: action %d of %d: %w", f.path, f.lines[i], i+1, len(f.o.Actions), err)
		}
	}
	return nil
}

// staleActionError is an overlay action whose target the spec no longer
// has. It is never the refresh action, which has messages of its own.
type staleActionError struct {
	overlayPath, spec string
	line              int
	index, total      int
	action            overlay.Action
}

func (e *staleActionError) Error() string {
	kind := "update"
	if e.action.Copy != "" && e.action.Update.IsZero() {
		kind = "copy"
	}
	reason := strings.Join(strings.Fields(e.action.Description), " ")
	if reason == "" {
		reason = "(none given: give every action a description)"
	}
	return fmt.Sprintf(`specgen: %s:%d: action %d of %d (%s) matches nothing in %s
  target: %s
  reason: %s
  what to do: if %s now has this right by itself (upstream fixed the defect),
    delete the action; if upstream renamed or moved what it corrects, point
    the target at the new place. Then run make generate again.`,
		e.overlayPath, e.line, e.index+1, e.total, kind, e.spec, e.action.Target, reason, e.spec)
}

// cloneNode returns a deep copy of n.
func cloneNode(n *yaml.Node) *yaml.Node {
	c := *n
	if n.Content != nil {
		c.Content = make([]*yaml.Node, len(n.Content))
		for i, k := range n.Content {
			c.Content[i] = cloneNode(k)
		}
	}
	return &c
}
