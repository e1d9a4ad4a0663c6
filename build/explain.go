package build

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
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

func (b *builder) notePath(parent string) string {
	return filepath.Join(b.st.CacheDir(), "why", parent[:2], parent)
}

// note records the parts of a step that ran under its parent's key.
func (s *stage) note(parent, key string) {
	if len(parent) < 2 || s.parts == nil {
		return
	}
	line, err := json.Marshal(keyNote{Key: key, Parts: s.parts})
	if err != nil {
		return
	}
	p := s.b.notePath(parent)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = f.Write(append(line, '\n'))
}

// explainMiss logs, at debug level, what differs between a step that
// missed and the closest step cached under the same parent.
func (s *stage) explainMiss() {
	log := s.b.opts.Log
	if !log.Enabled(context.Background(), slog.LevelDebug) || s.parts == nil {
		return
	}
	step := fmt.Sprintf("%d/%d", s.n, s.of)
	f, err := os.Open(s.b.notePath(s.st.key))
	if err != nil {
		log.Debug("cache miss: no step was ever cached after the previous one (the previous step is new or changed)", "step", step)
		return
	}
	defer f.Close()
	var best []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var n keyNote
		if json.Unmarshal(sc.Bytes(), &n) != nil || len(n.Parts) != len(s.parts) {
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
