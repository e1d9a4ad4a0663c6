package run

import (
	"runtime"
	"sync"

	"github.com/burrow-oci/burrow/storage"
)

// ContainerUsage is what a container takes on disk, as system df shows it.
type ContainerUsage struct {
	Container *storage.Container
	Status    storage.Status
	Running   bool
	Size      int64 // its writable layer
	Volumes   int   // its volume mounts
}

// ContainersUsage measures every container's writable layer, with its
// state. The containers are measured side by side: most of the time is
// waiting on the file system.
func ContainersUsage(st *storage.Store) ([]ContainerUsage, error) {
	ctrs, err := st.Containers()
	if err != nil {
		return nil, err
	}
	out := make([]ContainerUsage, len(ctrs))
	errs := make([]error, len(ctrs))
	parallel(len(ctrs), func(i int) {
		state, err := State(st, &ctrs[i])
		if err != nil {
			errs[i] = err
			return
		}
		rw, _ := st.ContainerRWSize(&ctrs[i])
		out[i] = ContainerUsage{Container: &ctrs[i], Size: rw, Running: state.Status == storage.StatusRunning, Status: state.Status}
		for _, m := range ctrs[i].Config.Mounts {
			if m.Type == "volume" {
				out[i].Volumes++
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// VolumeUsage is what a volume takes on disk and how many containers use it.
type VolumeUsage struct {
	Volume *storage.Volume
	Size   int64
	Links  int
}

// VolumesUsage measures every volume's files, side by side.
func VolumesUsage(st *storage.Store) ([]VolumeUsage, error) {
	vols, err := st.Volumes()
	if err != nil {
		return nil, err
	}
	links, err := st.VolumeUsers()
	if err != nil {
		return nil, err
	}
	out := make([]VolumeUsage, len(vols))
	parallel(len(vols), func(i int) {
		out[i] = VolumeUsage{Volume: &vols[i], Size: st.VolumeSize(&vols[i]), Links: len(links[vols[i].Name])}
	})
	return out, nil
}

// parallel calls fn(0..n-1) on a few goroutines and waits for them.
func parallel(n int, fn func(i int)) {
	workers := min(n, 2*runtime.NumCPU())
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
