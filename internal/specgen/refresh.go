package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// chooseRefresh checks that the refresh action of the overlay targets a
// SimpleJWT refresh view of the spec, and fails otherwise, saying what to
// change and to what. ops is the spec's table, with the overlay applied
// but for the refresh action, whose update would make any operation look
// like a refresh view. notes names the refresh views when there are more
// than one.
func chooseRefresh(spec string, f *overlayFile, doc *openapi3.T, ops []operation) (notes []string, err error) {
	var views []string
	for _, op := range ops {
		if op.view == refreshView {
			views = append(views, op.path)
		}
	}
	target := f.refreshPath
	line := f.lines[f.refresh]
	if slices.Contains(views, target) {
		if len(views) > 1 {
			notes = append(notes, fmt.Sprintf("specgen: %s has %d SimpleJWT refresh views (POST %s): "+
				"the session refreshes through POST %s, which %s:%d chooses; none takes the access token",
				spec, len(views), strings.Join(views, ", POST "), target, f.path, line))
		}
		return notes, nil
	}
	here := "is not in " + spec
	if item := doc.Paths.Find(target); item != nil && item.Post != nil {
		in, _ := requestFields(item.Post)
		out, answered := answerFields(item.Post)
		answer := "answers nothing"
		switch {
		case answered && out == nil:
			answer = "answers any type"
		case answered:
			answer = "answers " + out.String()
		}
		takes := "takes " + in.String()
		if len(in) == 0 {
			takes = "takes no object"
		}
		here = fmt.Sprintf("is not a SimpleJWT refresh view: it %s and %s", takes, answer)
	}
	switch len(views) {
	case 0:
		return nil, fmt.Errorf("specgen: %s:%d: %s has no SimpleJWT refresh view, and the session needs one: "+
			"no POST in it takes {refresh} and answers {access[, refresh]}. The refresh action's target, POST %s, %s.\n"+
			"  What to do: have the backend serve SimpleJWT's TokenRefreshView "+
			"(rest_framework_simplejwt.views.TokenRefreshView) and render the spec again; if it is not at %s, "+
			"point line %d of %s at its path. Then run make generate again.",
			f.path, line, spec, target, here, target, line, f.path)
	case 1:
		return nil, fmt.Errorf("specgen: %s:%d: the refresh action targets POST %s, which %s; "+
			"the spec's SimpleJWT refresh view is POST %s.\n"+
			"  What to do: on line %d of %s, change the target to\n    %s\n"+
			"  and run make generate again. Nothing else names the refresh path: "+
			"the client and the wrapper take it from the generated api.RefreshPath.",
			f.path, line, target, here, views[0], line, f.path, refreshTargetFor(views[0]))
	}
	return nil, fmt.Errorf("specgen: %s:%d: the refresh action targets POST %s, which %s; "+
		"the spec has %d SimpleJWT refresh views:\n    POST %s\n"+
		"  What to do: on line %d of %s, change the target to the one the session should refresh through "+
		"(the client calls it as RefreshCreate; none of them takes the access token), such as\n    %s\n"+
		"  and run make generate again.",
		f.path, line, target, here, len(views), strings.Join(views, "\n    POST "), line, f.path, refreshTargetFor(views[0]))
}
