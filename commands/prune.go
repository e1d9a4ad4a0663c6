package commands

import (
	"fmt"
	"io"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// imagePruneOptions turns a prune filter into PruneImages' options; image
// configs are read only when a label filter needs them.
func imagePruneOptions(st *storage.Store, f storage.PruneFilter, all bool) storage.PruneOptions {
	o := storage.PruneOptions{All: all, Until: f.Until}
	if len(f.Labels)+len(f.NotLabels) > 0 {
		o.Keep = func(img *storage.Image) (bool, error) {
			cfg, err := st.Config(img.ID)
			if err != nil {
				return true, err
			}
			return f.Keeps(img.Created, cfg.Config.Labels), nil
		}
	}
	return o
}

// pruneContainers removes the containers that are not running (and that
// the filter does not spare), and returns their IDs and the bytes their
// writable layers held.
func pruneContainers(st *storage.Store, f storage.PruneFilter) ([]string, int64, error) {
	return run.Prune(st, func(c *storage.Container) bool { return f.Keeps(c.Created, c.Config.Labels) })
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
