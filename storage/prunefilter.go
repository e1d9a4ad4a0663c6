package storage

import (
	"fmt"
	"strings"
	"time"
)

// PruneFilter is what the prune commands' --filter takes: until= and
// label= / label!= (KEY or KEY=VALUE).
type PruneFilter struct {
	Until             time.Time
	Labels, NotLabels []string
}

// ParsePruneFilter reads prune filters; what names the command in errors.
func ParsePruneFilter(filters []string, what string) (PruneFilter, error) {
	var f PruneFilter
	for _, kv := range filters {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return f, fmt.Errorf("bad format of filter (expected name=value): %q", kv)
		}
		switch k {
		case "until":
			t, err := ParseUntil(v, time.Now())
			if err != nil {
				return f, err
			}
			f.Until = t
		case "label":
			f.Labels = append(f.Labels, v)
		case "label!":
			f.NotLabels = append(f.NotLabels, v)
		default:
			return f, fmt.Errorf("invalid filter '%s' (hint: %s filters are until, label and label!)", k, what)
		}
	}
	return f, nil
}

// Keeps says whether the filter spares an object created at created with
// labels.
func (f PruneFilter) Keeps(created time.Time, labels map[string]string) bool {
	if !f.Until.IsZero() && !created.Before(f.Until) {
		return true
	}
	for _, l := range f.Labels {
		if !HasLabel(labels, l) {
			return true
		}
	}
	for _, l := range f.NotLabels {
		if HasLabel(labels, l) {
			return true
		}
	}
	return false
}

// HasLabel reports whether labels meet a label filter, as every label=
// filter of Docker's reads: KEY (present) or KEY=VALUE (with that value).
func HasLabel(labels map[string]string, filter string) bool {
	k, v, hasValue := strings.Cut(filter, "=")
	got, ok := labels[k]
	return ok && (!hasValue || got == v)
}
