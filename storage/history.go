package storage

import v1 "github.com/google/go-containerregistry/pkg/v1"

// HistoryEntry is one step of an image's history, with the size of the
// layer it made (0 for a step that made none).
type HistoryEntry struct {
	v1.History
	Size int64
}

// History lists the steps of the image's config history, newest first, as
// `history` shows them. Steps that are not empty layers take the image's
// layers in order, from the base up.
func (s *Store) History(img *Image) ([]HistoryEntry, error) {
	cfg, err := s.Config(img.ID)
	if err != nil {
		return nil, err
	}
	sizes, err := s.layerSizes(img)
	if err != nil {
		return nil, err
	}
	return historyOf(cfg.History, sizes), nil
}

func historyOf(hist []v1.History, sizes []int64) []HistoryEntry {
	out := make([]HistoryEntry, len(hist))
	layer := 0
	for i, h := range hist {
		e := HistoryEntry{History: h}
		if !h.EmptyLayer && layer < len(sizes) {
			e.Size = sizes[layer]
			layer++
		}
		out[len(hist)-1-i] = e
	}
	return out
}
