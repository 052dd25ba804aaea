package main

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// templateParam matches a parameter of a path template, such as {id}.
var templateParam = regexp.MustCompile(`\{([^{}/]*)\}`)

// checkPaths refuses path templates the generated client cannot fill: one
// that names a parameter twice (nested routes render
// /workflows/{id}/edges/{id}/, and the client would build
// ".../%!s(MISSING)/"), an operation whose template has a parameter the
// operation does not declare, and one that declares a path parameter its
// template does not have. Each problem names the operation and an overlay
// action that fixes it.
func checkPaths(spec string, doc *openapi3.T) error {
	if doc.Paths == nil {
		return nil
	}
	var problems []string
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		names := map[string]int{}
		var order []string
		for _, m := range templateParam.FindAllStringSubmatch(path, -1) {
			if names[m[1]]++; names[m[1]] == 1 {
				order = append(order, m[1])
			}
		}
		ops := item.Operations()
		methods := slices.Sorted(maps.Keys(ops))
		var twice []string
		for _, name := range order {
			if names[name] > 1 {
				twice = append(twice, "{"+name+"}")
			}
		}
		if len(twice) > 0 {
			problems = append(problems, fmt.Sprintf("%s names the path parameter %s twice, as a nested route can render it: "+
				"the generated client would fill only the first, and its code would not vet. Give the parameters distinct names "+
				"in the backend's route (such as <int:workflow_id>; drf-nested-routers' lookup=\"workflow\" gives {workflow_pk}) "+
				"and render the spec again, or leave the path out of the client with this action in overlay.yaml:\n%s",
				describeOps(path, methods, ops), strings.Join(twice, ", "),
				fmt.Sprintf("- target: %s\n  description: The path names %s twice; the client cannot call it.\n  remove: true",
					jsonPath([]string{"paths", path}), strings.Join(twice, ", "))))
			continue
		}
		for _, method := range methods {
			declared := map[string]bool{}
			for i, params := range []openapi3.Parameters{item.Parameters, ops[method].Parameters} {
				for _, p := range params {
					if p == nil || p.Value == nil || p.Value.In != openapi3.ParameterInPath {
						continue
					}
					declared[p.Value.Name] = true
					if names[p.Value.Name] > 0 {
						continue
					}
					at := []string{"paths", path}
					if i == 1 {
						at = append(at, strings.ToLower(method))
					}
					problems = append(problems, fmt.Sprintf("%s declares the path parameter %s, which the path does not have: "+
						"the generator would refuse it. Drop the declaration with this action in overlay.yaml:\n%s",
						describeOps(path, []string{method}, ops), p.Value.Name,
						fmt.Sprintf("- target: %s.parameters[?(@.name=='%s')]\n  description: The path has no parameter %s.\n  remove: true",
							jsonPath(at), p.Value.Name, p.Value.Name)))
				}
			}
			for _, name := range order {
				if declared[name] {
					continue
				}
				problems = append(problems, fmt.Sprintf("%s has the path parameter {%s} but does not declare it. "+
					"Declare it with this action in overlay.yaml (with the type the backend takes):\n%s",
					describeOps(path, []string{method}, ops), name,
					fmt.Sprintf("- target: %s\n  description: The spec does not declare the path parameter %s.\n"+
						"  update:\n    parameters:\n      - name: %s\n        in: path\n        required: true\n        schema:\n          type: string",
						jsonPath([]string{"paths", path, strings.ToLower(method)}), name, yamlKey(name))))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("specgen: %s has paths the generated client cannot call:\n%s", spec, listProblems(problems))
	}
	return nil
}

// describeOps names the operations methods of path, such as "GET, DELETE
// /api/v1/x/{id}/ (x_retrieve, x_destroy)".
func describeOps(path string, methods []string, ops map[string]*openapi3.Operation) string {
	var ms, ids []string
	for _, m := range methods {
		ms = append(ms, strings.ToUpper(m))
		if id := ops[m].OperationID; id != "" {
			ids = append(ids, id)
		}
	}
	s := strings.Join(ms, ", ") + " " + path
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s
}
