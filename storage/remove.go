package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/burrow-oci/burrow/storage/reference"
	cstorage "go.podman.io/storage"
)

// ConflictError is a removal refused because the image is in use or has
// several names; Force overrides it unless CannotForce is set.
type ConflictError struct {
	Msg         string
	CannotForce bool
}

func (e *ConflictError) Error() string { return "conflict: " + e.Msg }

// Is makes errors.Is(err, ErrImageInUse) true.
func (e *ConflictError) Is(target error) bool { return target == ErrImageInUse }

// Removal says what a removal did, in the order Docker reports it.
type Removal struct {
	Untagged  []string // short names
	Deleted   []string // image IDs ("sha256:...")
	Reclaimed int64    // bytes of layers actually removed
}

// Tag gives an image an additional name; a name held by another image moves.
func (s *Store) Tag(img *Image, name string) error {
	full, err := reference.Normalize(name)
	if err != nil {
		return err
	}
	unlock, err := s.lockWrite()
	if err != nil {
		return err
	}
	defer unlock()
	if err := s.cs.AddNames(img.ID, []string{full}); err != nil {
		return fmt.Errorf("tagging image %s as %s: %w", short(img.ID), reference.Short(full), err)
	}
	return nil
}

// RemoveImage removes what ref names, as `docker rmi` does: a name that is
// one of several is only untagged; the last name, or an ID, removes the
// image. An image used by a container, or an ID with names in several
// repositories, is refused with a *ConflictError unless force is set.
func (s *Store) RemoveImage(ref string, force bool) (*Removal, error) {
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	img, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	byName := !isHex(strings.TrimPrefix(ref, "sha256:")) || !strings.HasPrefix(img.ID, strings.TrimPrefix(ref, "sha256:"))
	users, err := s.containersUsing(img.ID)
	if err != nil {
		return nil, err
	}
	r := &Removal{}
	if byName {
		full, _ := reference.Normalize(ref)
		// The last tag takes the image (and its digests) with it, as in
		// Docker; a digest reference is only untagged while anything else
		// names the image.
		others := len(img.Names) - 1
		if strings.Contains(full, "@") {
			others = len(img.Names) + len(img.Digests) - 1
		}
		if others > 0 {
			if err := s.cs.RemoveNames(img.ID, []string{full}); err != nil {
				return nil, fmt.Errorf("untagging %s: %w", reference.Short(full), err)
			}
			r.Untagged = append(r.Untagged, reference.Short(full))
			return r, nil
		}
		if len(users) > 0 && !force {
			return nil, &ConflictError{Msg: fmt.Sprintf("unable to remove repository reference %q (must force) - container %s is using its referenced image %s", ref, short(users[0]), short(img.ID))}
		}
	} else {
		if repos := distinctRepos(img.Names); len(repos) > 1 && !force {
			return nil, &ConflictError{Msg: fmt.Sprintf("unable to delete %s (must be forced) - image is referenced in multiple repositories", short(img.ID))}
		}
		if len(users) > 0 && !force {
			return nil, &ConflictError{Msg: fmt.Sprintf("unable to delete %s (must be forced) - image is being used by stopped container %s", short(img.ID), short(users[0]))}
		}
	}
	for _, n := range append(append([]string(nil), img.Names...), img.Digests...) {
		r.Untagged = append(r.Untagged, reference.Short(n))
	}
	if len(users) > 0 {
		// The containers keep the image alive; it stays, nameless, until
		// they are removed.
		if err := s.cs.SetNames(img.ID, nil); err != nil {
			return nil, fmt.Errorf("untagging image %s: %w", short(img.ID), err)
		}
		return r, nil
	}
	if err := s.deleteImage(img.ID, r); err != nil {
		return nil, err
	}
	return r, nil
}

func distinctRepos(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[reference.Repository(n)] = true
	}
	return m
}

// deleteImage removes an image record and the layers only it used,
// adding what it freed to r.
func (s *Store) deleteImage(id string, r *Removal) error {
	layers, err := s.layerIndex()
	if err != nil {
		return err
	}
	deleted, err := s.cs.DeleteImage(id, true)
	if err != nil {
		if errors.Is(err, cstorage.ErrImageUsedByContainer) {
			return &ConflictError{Msg: fmt.Sprintf("unable to delete %s - image is being used by a container", short(id))}
		}
		return fmt.Errorf("removing image %s: %w", short(id), err)
	}
	r.Deleted = append(r.Deleted, "sha256:"+id)
	for _, l := range deleted {
		if li, ok := layers[l]; ok {
			r.Reclaimed += li.UncompressedSize
		}
	}
	return nil
}

// PruneOptions select the images PruneImages removes.
type PruneOptions struct {
	// All removes every image no container uses, not only dangling ones.
	All bool
	// Until keeps images created after it (zero: no limit).
	Until time.Time
	// Keep, if set, is asked about each candidate; true keeps it. Label
	// filters use it.
	Keep func(img *Image) (bool, error)
}

// PruneImages removes dangling images (all unused images with All) and then
// layers that no image or container refers to, left by interrupted writes,
// and the download spools of pulls that were killed (SweepSpools).
func (s *Store) PruneImages(opts PruneOptions) (*Removal, error) {
	unlock, err := s.lockWrite()
	if err != nil {
		return nil, err
	}
	defer unlock()
	imgs, err := s.Images()
	if err != nil {
		return nil, err
	}
	r := &Removal{}
	for i := range imgs {
		img := &imgs[i]
		if !opts.All && !img.Dangling() {
			continue
		}
		if !opts.Until.IsZero() && !img.Created.Before(opts.Until) {
			continue
		}
		if users, err := s.containersUsing(img.ID); err != nil {
			return r, err
		} else if len(users) > 0 {
			continue
		}
		if opts.Keep != nil {
			keep, err := opts.Keep(img)
			if err != nil {
				return r, err
			}
			if keep {
				continue
			}
		}
		for _, n := range append(append([]string(nil), img.Names...), img.Digests...) {
			r.Untagged = append(r.Untagged, reference.Short(n))
		}
		if err := s.deleteImage(img.ID, r); err != nil {
			if errors.Is(err, cstorage.ErrImageUnknown) {
				continue // removed by a concurrent command
			}
			return r, err
		}
	}
	// Spools are locked by their pulls, so this is safe beside a build.
	SweepSpools(filepath.Join(s.opts.Root, DownloadsDir), s.opts.Log)
	if d := s.opts.TmpSpoolDir; d != "" && OwnedDir(d) {
		SweepSpools(d, s.opts.Log)
	}
	freed, err := s.removeOrphanLayers()
	r.Reclaimed += freed
	return r, err
}

// removeOrphanLayers deletes layers that no image or container refers to
// (left by a process killed between writing a layer and recording its
// image). The caller holds the write lock, so no writer is in progress.
func (s *Store) removeOrphanLayers() (int64, error) {
	if s.buildsRunning() {
		// A running build's layers are unreferenced until it records them.
		s.opts.Log.Debug("a build is running: unreferenced layers are kept")
		return 0, nil
	}
	layers, err := s.cs.Layers()
	if err != nil {
		return 0, fmt.Errorf("listing layers: %w", err)
	}
	byID := map[string]*cstorage.Layer{}
	for i := range layers {
		byID[layers[i].ID] = &layers[i]
	}
	used := map[string]bool{}
	mark := func(id string) {
		for id != "" && !used[id] {
			used[id] = true
			if l, ok := byID[id]; ok {
				id = l.Parent
			} else {
				break
			}
		}
	}
	imgs, err := s.cs.Images()
	if err != nil {
		return 0, fmt.Errorf("listing images: %w", err)
	}
	for _, img := range imgs {
		mark(img.TopLayer)
		for _, l := range img.MappedTopLayers {
			mark(l)
		}
	}
	ctrs, err := s.cs.Containers()
	if err != nil {
		return 0, fmt.Errorf("listing containers: %w", err)
	}
	for _, c := range ctrs {
		mark(c.LayerID)
	}
	var orphans []*cstorage.Layer
	for i := range layers {
		if !used[layers[i].ID] {
			orphans = append(orphans, &layers[i])
		}
	}
	// Children first: a layer with children cannot be deleted.
	depth := func(l *cstorage.Layer) int {
		d := 0
		for p := l.Parent; p != ""; d++ {
			pl, ok := byID[p]
			if !ok {
				break
			}
			p = pl.Parent
		}
		return d
	}
	sort.Slice(orphans, func(a, b int) bool { return depth(orphans[a]) > depth(orphans[b]) })
	var freed int64
	for _, l := range orphans {
		if err := s.cs.DeleteLayer(l.ID); err != nil {
			s.opts.Log.Warn("removing an orphan layer", "layer", l.ID, "err", err)
			continue
		}
		freed += l.UncompressedSize
	}
	s.pruneStaging()
	s.removeOrphanEphemeral()
	return freed, nil
}

// removeOrphanEphemeral removes the layers of ephemeral containers whose
// record is gone: the run root was wiped (a reboot) while one ran. They
// are the driver's layers that neither containers/storage nor an
// ephemeral record knows. The caller holds the write lock and no build
// runs, so no layer is half-made.
func (s *Store) removeOrphanEphemeral() {
	if !s.ephemeralSupported() {
		return
	}
	d, err := s.graphDriver()
	if err != nil {
		return
	}
	ids, err := d.ListLayers()
	if err != nil {
		return
	}
	eph, err := s.ephemeralContainers()
	if err != nil {
		return
	}
	layers, err := s.cs.Layers()
	if err != nil {
		return
	}
	known := make(map[string]bool, len(eph)+len(layers))
	for _, c := range eph {
		known[c.ID] = true // an ephemeral container's layer has its ID
	}
	for _, l := range layers {
		known[l.ID] = true
	}
	for _, id := range ids {
		if len(id) != 64 || !isHex(id) || known[id] {
			continue
		}
		if err := d.Remove(id); err != nil {
			s.opts.Log.Warn("removing the layer of a container whose record is gone", "layer", id, "err", err)
		}
	}
}

// pruneStaging removes the staging directories that a killed writer left.
// The caller holds the write lock, so no writer is staging now.
func (s *Store) pruneStaging() {
	dir := filepath.Join(s.opts.Root, s.driver, "staging")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			s.opts.Log.Warn("removing a staging directory", "dir", e.Name(), "err", err)
		}
	}
}

// Reset removes a whole store: the graph root and the run root, with every
// file in them whatever its owner. It does not open the store, so that it
// works on one too damaged to open. Call it inside the user namespace,
// once the store's containers are stopped (run.KillAll).
func Reset(root, runRoot string) error {
	for _, dir := range []string{runRoot, root} {
		if dir == "" || dir == "/" {
			return fmt.Errorf("internal error: refusing to remove %q", dir)
		}
		if err := unmountUnder(dir); err != nil {
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("removing %s: %w", dir, err)
		}
	}
	return nil
}

// RecordedStates reads the run states recorded in the store at root and
// runRoot without opening it (it may be too damaged to open), so that the
// processes of its running containers can be stopped before a reset.
func RecordedStates(root, runRoot string) []ContainerState {
	var out []ContainerState
	for _, f := range stateFiles(root, runRoot) {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var st ContainerState
		if json.Unmarshal(data, &st) == nil {
			out = append(out, st)
		}
	}
	return out
}
