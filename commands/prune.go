package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// pruneFilter is what the prune commands' --filter takes: until= and
// label= / label!= (KEY or KEY=VALUE).
type pruneFilter struct {
	until             time.Time
	labels, notLabels []string
}

func parsePruneFilter(filters []string, what string) (pruneFilter, error) {
	var f pruneFilter
	for _, kv := range filters {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, fmt.Errorf("bad format of filter (expected name=value): %q", kv)
		}
		switch k {
		case "until":
			t, err := storage.ParseUntil(v, time.Now())
			if err != nil {
				return f, err
			}
			f.until = t
		case "label":
			f.labels = append(f.labels, v)
		case "label!":
			f.notLabels = append(f.notLabels, v)
		default:
			return f, fmt.Errorf("invalid filter '%s' (hint: %s filters are until, label and label!)", k, what)
		}
	}
	return f, nil
}

// keeps says whether the filter spares an object created at created with
// labels.
func (f pruneFilter) keeps(created time.Time, labels map[string]string) bool {
	if !f.until.IsZero() && !created.Before(f.until) {
		return true
	}
	has := func(l string) bool {
		k, v, hasValue := strings.Cut(l, "=")
		got, ok := labels[k]
		return ok && (!hasValue || got == v)
	}
	for _, l := range f.labels {
		if !has(l) {
			return true
		}
	}
	for _, l := range f.notLabels {
		if has(l) {
			return true
		}
	}
	return false
}

// imagePruneOptions turns a prune filter into PruneImages' options; image
// configs are read only when a label filter needs them.
func imagePruneOptions(st *storage.Store, f pruneFilter, all bool) storage.PruneOptions {
	o := storage.PruneOptions{All: all, Until: f.until}
	if len(f.labels)+len(f.notLabels) > 0 {
		o.Keep = func(img *storage.Image) (bool, error) {
			cfg, err := st.Config(img.ID)
			if err != nil {
				return true, err
			}
			return f.keeps(img.Created, cfg.Config.Labels), nil
		}
	}
	return o
}

// pruneContainers removes the containers that are not running (and that
// the filter does not spare), and returns their IDs and the bytes their
// writable layers held.
func pruneContainers(st *storage.Store, f pruneFilter) ([]string, int64, error) {
	return run.Prune(st, func(c *storage.Container) bool { return f.keeps(c.Created, c.Config.Labels) })
}

// printDeleted prints a "Deleted X:" section, as Docker's prunes do.
func printDeleted(w io.Writer, title string, ids []string) {
	if len(ids) == 0 {
		return
	}
	fmt.Fprintln(w, title)
	for _, id := range ids {
		fmt.Fprintln(w, id)
	}
	fmt.Fprintln(w)
}
