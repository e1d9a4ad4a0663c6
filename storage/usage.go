package storage

import (
	"time"
)

// ImageUsage is an image's share of the disk: the bytes of its layers that
// other images use too, and those only it uses.
type ImageUsage struct {
	Image              Image
	SharedSize, Unique int64
	Containers         int
}

// CacheUsage is a build cache entry and the bytes only the cache keeps
// for it (its layer, when no image uses that layer).
type CacheUsage struct {
	ID      string
	Created time.Time
	Size    int64
	Shared  bool // its layer is in an image too
}

// Usage is what `system df` reports of images and the build cache; every
// layer is counted once, however many images share it.
type Usage struct {
	Images            []ImageUsage
	ImagesSize        int64
	ImagesActive      int
	ImagesReclaimable int64
	Cache             []CacheUsage
	// CacheSize is the bytes only the cache keeps: layers no image uses,
	// and the RUN --mount=type=cache directories.
	CacheSize int64
}

// DiskUsage measures images and the build cache from the layer records
// (no file is read but the cache mounts' directory).
func (s *Store) DiskUsage() (*Usage, error) {
	all, err := s.cs.Images()
	if err != nil {
		return nil, err
	}
	layers, err := s.layerIndex()
	if err != nil {
		return nil, err
	}
	users, err := s.imageUsers()
	if err != nil {
		return nil, err
	}
	chain := func(top string) []string {
		var out []string
		for id := top; id != ""; {
			l, ok := layers[id]
			if !ok {
				break
			}
			out = append(out, id)
			id = l.Parent
		}
		return out
	}
	u := &Usage{}
	refs := map[string]int{} // layer -> images using it
	inImage := map[string]bool{}
	var imgs []Image
	for i := range all {
		if isCacheRecord(&all[i]) {
			continue
		}
		img := s.imageFrom(&all[i], layers)
		imgs = append(imgs, img)
		for _, id := range img.Layers {
			refs[id]++
			if !inImage[id] {
				inImage[id] = true
				u.ImagesSize += layers[id].UncompressedSize
			}
		}
	}
	active := map[string]bool{}
	for _, img := range imgs {
		iu := ImageUsage{Image: img, Containers: users[img.ID]}
		for _, id := range img.Layers {
			if refs[id] > 1 {
				iu.SharedSize += layers[id].UncompressedSize
			} else {
				iu.Unique += layers[id].UncompressedSize
			}
		}
		if iu.Containers > 0 {
			u.ImagesActive++
			for _, id := range img.Layers {
				active[id] = true
			}
		}
		u.Images = append(u.Images, iu)
	}
	u.ImagesReclaimable = u.ImagesSize
	for id := range active {
		u.ImagesReclaimable -= layers[id].UncompressedSize
	}
	counted := map[string]bool{}
	for i := range all {
		if !isCacheRecord(&all[i]) {
			continue
		}
		e := cacheEntryOf(&all[i])
		cu := CacheUsage{ID: all[i].ID, Created: all[i].Created, Shared: e.Layer != "" && inImage[e.Layer]}
		if l, ok := layers[e.Layer]; ok && !inImage[e.Layer] {
			cu.Size = l.UncompressedSize
		}
		for _, id := range chain(all[i].TopLayer) {
			if !inImage[id] && !counted[id] {
				counted[id] = true
				u.CacheSize += layers[id].UncompressedSize
			}
		}
		u.Cache = append(u.Cache, cu)
	}
	u.CacheSize += dirSize(s.cacheDir() + "/mounts")
	return u, nil
}

// imageUsers counts the containers of each image.
func (s *Store) imageUsers() (map[string]int, error) {
	all, err := s.containerImages()
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, img := range all {
		out[img]++
	}
	return out, nil
}
