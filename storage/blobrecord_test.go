package storage

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func testHash(s string) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sha256.Sum256([]byte(s)))}
}

func testBlob(s string) LayerBlob {
	return LayerBlob{DiffID: testHash("diff " + s), Digest: testHash("blob " + s), Size: 42, MediaType: types.OCILayer}
}

// TestBlobRecordConcurrentAdd: updates from many writers at once (each
// with its own BlobRecord, as separate processes have) all land. Without
// the lock, writers that read the same record write back only their own
// additions and entries are lost.
func TestBlobRecordConcurrentAdd(t *testing.T) {
	dir := t.TempDir()
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := BlobRecord{dir: dir}
				if err := r.Add("localhost:5000/app", []LayerBlob{testBlob(fmt.Sprint(w, "-", i))}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rec := BlobRecord{dir: dir}.Load()
	if len(rec) != writers*each {
		t.Errorf("record holds %d layers after %d concurrent adds, want all of them", len(rec), writers*each)
	}
	for w := range writers {
		for i := range each {
			b := testBlob(fmt.Sprint(w, "-", i))
			got := rec[b.DiffID.String()]
			if len(got) != 1 || got[0].Digest != b.Digest || got[0].DiffID != b.DiffID {
				t.Errorf("layer %d-%d: %+v, want blob %s", w, i, got, b.Digest)
			}
		}
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, blobRecordFile+".*")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestBlobRecordAdd: a place is added once, the newest blobWhereMax are
// kept, and a second blob of one layer is kept beside the first.
func TestBlobRecordAdd(t *testing.T) {
	dir := t.TempDir()
	r := BlobRecord{dir: dir}
	if got := r.Load(); len(got) != 0 {
		t.Fatalf("a missing record loads as %v, want empty", got)
	}
	b := testBlob("a")
	for i := range blobWhereMax + 2 {
		if err := r.Add(fmt.Sprintf("host/repo%d", i), []LayerBlob{b}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := os.Stat(filepath.Join(dir, blobRecordFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Add(fmt.Sprintf("host/repo%d", blobWhereMax+1), []LayerBlob{b}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dir, blobRecordFile))
	if !os.SameFile(before, after) {
		t.Errorf("an Add with nothing new rewrote the record")
	}
	zst := b
	zst.Digest, zst.MediaType = testHash("zstd a"), types.OCILayerZStd
	if err := r.Add("host/repo0", []LayerBlob{zst}); err != nil {
		t.Fatal(err)
	}
	list := r.Load()[b.DiffID.String()]
	if len(list) != 2 || list[1].Digest != zst.Digest {
		t.Fatalf("blobs of the layer: %+v, want the gzip and the zstd one", list)
	}
	where := list[0].Where
	if len(where) != blobWhereMax || where[0] != "host/repo2" || where[blobWhereMax-1] != fmt.Sprintf("host/repo%d", blobWhereMax+1) {
		t.Errorf("places: %v, want host/repo2 .. host/repo%d", where, blobWhereMax+1)
	}
	// The file keeps the form earlier versions wrote and read.
	data, _ := os.ReadFile(filepath.Join(dir, blobRecordFile))
	var raw map[string][]map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"digest", "size", "mediaType", "where"} {
		if _, ok := raw[b.DiffID.String()][0][k]; !ok {
			t.Errorf("record entry %v lacks %q", raw[b.DiffID.String()][0], k)
		}
	}
	if len(raw[b.DiffID.String()][0]) != 4 {
		t.Errorf("record entry %v has keys beyond digest, size, mediaType, where", raw[b.DiffID.String()][0])
	}
}
