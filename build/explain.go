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

// stepKey computes a step's key from its named parts, and keeps the parts
// for the note and the explanation.
func (s *stage) stepKey(parts ...keyPart) string {
	values := make([]string, len(parts))
	for i, p := range parts {
		values[i] = p.Value
	}
	s.parts = parts
	return cachekey.Key(s.st.key, values...)
}

// note records the parts of a step that ran under its parent's key. It is
// best effort: a note that cannot be written only makes a later
// explanation vaguer.
func (s *stage) note(parent, key string) {
	if s.parts == nil {
		return
	}
	line, err := json.Marshal(keyNote{Key: key, Parts: s.parts})
	if err != nil {
		return
	}
	if err := s.b.st.AddCacheNote(parent, line); err != nil {
		s.b.opts.Log.Debug("noting a step's key parts", "err", err)
	}
}

// explainMiss logs, at debug level, what differs between a step that
// missed and the closest step cached under the same parent.
func (s *stage) explainMiss() {
	log := s.b.opts.Log
	if !log.Enabled(context.Background(), slog.LevelDebug) || s.parts == nil {
		return
	}
	step := fmt.Sprintf("%d/%d", s.n, s.of)
	notes, err := s.b.st.CacheNotes(s.st.key)
	if err != nil || len(notes) == 0 {
		log.Debug("cache miss: no step was ever cached after the previous one (the previous step is new or changed)", "step", step)
		return
	}
	var best []string
	for _, line := range notes {
		var n keyNote
		if json.Unmarshal(line, &n) != nil || len(n.Parts) != len(s.parts) {
			continue
		}
		var diffs []string
		for i, p := range s.parts {
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
