package build

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/burrow-oci/burrow/build/cachekey"
)

// Why a step missed the cache. Every step that runs notes, next to the
// cache, the parts its key was made of, filed under its parent's key. On a
// miss at debug level, the build compares the step with the steps noted
// under the same parent and says which part differs; with none noted, the
// previous step itself is new.

// keyPart is one named part of a step's key.
type keyPart struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

type keyNote struct {
	Key   string    `json:"key"`
	Parts []keyPart `json:"parts"`
}

// stepKey is a step's cache key with what it was made of: its parent's key
// and its named parts, which the note keeps and the miss explanation
// compares.
type stepKey struct {
	parent string
	key    string
	parts  []keyPart
}

// keyOf computes the key of a step under parent from its named parts, in
// order (cachekey.Key of their values).
func keyOf(parent string, parts ...keyPart) stepKey {
	values := make([]string, len(parts))
	for i, p := range parts {
		values[i] = p.Value
	}
	return stepKey{parent: parent, key: cachekey.Key(parent, values...), parts: parts}
}

// stepKey computes the key of the stage's next step from its named parts.
func (s *stage) stepKey(parts ...keyPart) stepKey {
	return keyOf(s.st.key, parts...)
}

// note records the parts of a step that ran, under its parent's key. It is
// best effort: a note that cannot be written only makes a later
// explanation vaguer.
func (s *stage) note(k stepKey) {
	line, err := json.Marshal(keyNote{Key: k.key, Parts: k.parts})
	if err != nil {
		return
	}
	if err := s.b.st.AddCacheNote(k.parent, line); err != nil {
		s.b.opts.Log.Debug("noting a step's key parts", "err", err)
	}
}

// explainMiss logs, at debug level, what differs between the step k that
// missed and the closest step noted under the same parent.
func (s *stage) explainMiss(k stepKey) {
	log := s.b.opts.Log
	if !log.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	step := fmt.Sprintf("%d/%d", s.n, s.of)
	notes, err := s.b.st.CacheNotes(k.parent)
	if err != nil || len(notes) == 0 {
		log.Debug("cache miss: no step was ever cached after the previous one (the previous step is new or changed)", "step", step)
		return
	}
	var best []string
	for _, line := range notes {
		var n keyNote
		if json.Unmarshal(line, &n) != nil || len(n.Parts) != len(k.parts) {
			continue
		}
		var diffs []string
		for i, p := range k.parts {
			if n.Parts[i].Value != p.Value {
				diffs = append(diffs, fmt.Sprintf("%s (now %s, cached %s)", p.Name, clip(p.Value), clip(n.Parts[i].Value)))
			}
		}
		if best == nil || len(diffs) < len(best) {
			best = diffs
		}
	}
	if best == nil {
		log.Debug("cache miss: the steps cached after the previous one are of another kind", "step", step)
		return
	}
	log.Debug("cache miss: "+strings.Join(best, "; "), "step", step)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}
