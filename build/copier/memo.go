package copier

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/burrow-oci/burrow/storage/atomicfile"
)

// memoCap is how many entries Save keeps beyond those used since LoadMemo.
const memoCap = 200_000

// memoRacyWindow is how old a file's mtime and ctime must be, when Digest
// starts, for its hash to be memoised. Kernel file timestamps come from a
// coarse clock (a few ms per tick), so a file rewritten with the same size
// in the tick in which it was hashed would keep an identical stat: git's
// "racy clean" problem. Such recent files are hashed again next time.
const memoRacyWindow = 100 * time.Millisecond

// Memo is the persistent stat memo: it maps a file's (device, inode, size,
// mtime, ctime) to the sha256 of its content, so that digesting an
// unchanged file needs only its lstat. ctime changes on every write, chmod,
// chown, rename or link of the file, and cannot be set by users, so a match
// means the content is the one that was hashed.
//
// A nil *Memo is valid everywhere and memoises nothing. Methods are safe for
// concurrent use.
type Memo struct {
	path string

	mu      sync.Mutex
	entries map[memoKey]memoVal
	next    uint32 // order given to entries added since LoadMemo
	dirty   bool

	racy  time.Duration // memoRacyWindow; tests shorten it
	reads atomic.Int64  // files Digest read while using this memo
}

type memoKey struct {
	dev, ino           uint64
	size, mtime, ctime int64
}

type memoVal struct {
	sum   [32]byte
	order uint32 // position in the file: lower was used more recently
	used  bool   // looked up or added since LoadMemo
}

// memo file layout: magic, entry count (uint32 LE), records, then the
// sha256 of everything before it so a torn or corrupt file reads as empty.
var memoMagic = []byte("burrowmemo\x00v1\x00\x00\x00\x00")

const memoRecord = 8*5 + 32

// LoadMemo reads the memo file at path. A missing or corrupt file gives an
// empty memo: the memo is only a cache.
func LoadMemo(path string) *Memo {
	m := &Memo{path: path, entries: map[memoKey]memoVal{}, racy: memoRacyWindow}
	data, err := os.ReadFile(path)
	if err != nil || len(data) < len(memoMagic)+4+sha256.Size || !bytes.HasPrefix(data, memoMagic) {
		return m
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if want := sha256.Sum256(body); !bytes.Equal(want[:], sum) {
		return m
	}
	n := binary.LittleEndian.Uint32(body[len(memoMagic):])
	recs := body[len(memoMagic)+4:]
	if uint64(len(recs)) != uint64(n)*memoRecord {
		return m
	}
	m.entries = make(map[memoKey]memoVal, n)
	for i := uint32(0); i < n; i++ {
		r := recs[int(i)*memoRecord:]
		k := memoKey{
			dev:   binary.LittleEndian.Uint64(r[0:]),
			ino:   binary.LittleEndian.Uint64(r[8:]),
			size:  int64(binary.LittleEndian.Uint64(r[16:])),
			mtime: int64(binary.LittleEndian.Uint64(r[24:])),
			ctime: int64(binary.LittleEndian.Uint64(r[32:])),
		}
		v := memoVal{order: i}
		copy(v.sum[:], r[40:72])
		m.entries[k] = v
	}
	m.next = n
	return m
}

// lookup returns the memoised content hash for a stat, marking it used.
func (m *Memo) lookup(k memoKey) ([32]byte, bool) {
	if m == nil {
		return [32]byte{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.entries[k]
	if ok && !v.used {
		v.used = true
		m.entries[k] = v
	}
	return v.sum, ok
}

// store memoises a content hash.
func (m *Memo) store(k memoKey, sum [32]byte) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if v, ok := m.entries[k]; ok && v.sum == sum {
		return
	}
	m.entries[k] = memoVal{sum: sum, order: m.next, used: true}
	m.next++
	m.dirty = true
}

// Save writes the memo back if entries were added since LoadMemo (lookups
// alone do not make it dirty). It keeps every entry used since LoadMemo,
// then older entries, most recently saved first, up to 200,000 in all. The
// write is atomic (a temporary file in the same directory, mode 0600,
// renamed over the old one), so concurrent savers never tear the file: the
// last rename wins.
func (m *Memo) Save() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirty {
		return nil
	}
	type kv struct {
		k memoKey
		v memoVal
	}
	all := make([]kv, 0, len(m.entries))
	for k, v := range m.entries {
		all = append(all, kv{k, v})
	}
	slices.SortFunc(all, func(a, b kv) int {
		if a.v.used != b.v.used {
			if a.v.used {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.v.order, b.v.order)
	})
	keep := len(all)
	if keep > memoCap {
		keep = memoCap
		for keep < len(all) && all[keep].v.used {
			keep++
		}
	}
	all = all[:keep]

	buf := make([]byte, 0, len(memoMagic)+4+keep*memoRecord+sha256.Size)
	buf = append(buf, memoMagic...)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(keep))
	for _, e := range all {
		buf = binary.LittleEndian.AppendUint64(buf, e.k.dev)
		buf = binary.LittleEndian.AppendUint64(buf, e.k.ino)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(e.k.size))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(e.k.mtime))
		buf = binary.LittleEndian.AppendUint64(buf, uint64(e.k.ctime))
		buf = append(buf, e.v.sum[:]...)
	}
	sum := sha256.Sum256(buf)
	buf = append(buf, sum[:]...)
	// Synced, as it always was, although a torn memo reads as empty.
	if err := os.MkdirAll(filepath.Dir(m.path), 0o700); err != nil {
		return fmt.Errorf("saving stat memo: %w", err)
	}
	if err := atomicfile.Write(m.path, buf, 0o600, atomicfile.Durable); err != nil {
		return fmt.Errorf("saving stat memo: %w", err)
	}

	// The saved order becomes the recency order for the next Save, so
	// entries not used for several builds drift to the end and drop off.
	m.entries = make(map[memoKey]memoVal, keep)
	for i, e := range all {
		e.v.order = uint32(i)
		m.entries[e.k] = e.v
	}
	m.next = uint32(keep)
	m.dirty = false
	return nil
}
