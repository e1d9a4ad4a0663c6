package copier

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func memoEntry(i int) (memoKey, [32]byte) {
	k := memoKey{dev: 1, ino: uint64(i), size: int64(i), mtime: int64(i) * 3, ctime: int64(i) * 7}
	var sum [32]byte
	sum[0], sum[1], sum[2] = byte(i), byte(i>>8), byte(i>>16)
	return k, sum
}

func TestMemoLoad(t *testing.T) {
	tests := []struct {
		name    string
		content []byte // nil: no file
	}{
		{"missing file", nil},
		{"empty file", []byte{}},
		{"garbage", []byte("not a memo at all, but long enough to have a trailer of 32 bytes")},
		{"right magic, wrong checksum", append(append([]byte{}, memoMagic...), make([]byte, 4+memoRecord+32)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "memo")
			if tt.content != nil {
				if err := os.WriteFile(p, tt.content, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			m := LoadMemo(p)
			if len(m.entries) != 0 {
				t.Errorf("LoadMemo of %s has %d entries, want 0", tt.name, len(m.entries))
			}
			// An unchanged memo is not written.
			if err := m.Save(); err != nil {
				t.Fatal(err)
			}
			k, sum := memoEntry(1)
			m.store(k, sum)
			if err := m.Save(); err != nil {
				t.Fatalf("Save over %s: %v", tt.name, err)
			}
			if got, ok := LoadMemo(p).lookup(k); !ok || got != sum {
				t.Errorf("after Save, lookup = %x, %v; want %x", got, ok, sum)
			}
		})
	}
}

func TestMemoSaveFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sub", "memo")
	m := LoadMemo(p)
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("Save of an unchanged memo created the file (stat error %v)", err)
	}
	k, sum := memoEntry(5)
	m.store(k, sum)
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("memo file mode %v, want 0600", fi.Mode().Perm())
	}
	left, err := filepath.Glob(filepath.Join(filepath.Dir(p), ".memo.tmp-*"))
	if err != nil || len(left) != 0 {
		t.Errorf("temporary files left behind: %v %v", left, err)
	}
	var nilMemo *Memo
	if err := nilMemo.Save(); err != nil {
		t.Errorf("nil Memo Save: %v", err)
	}
	if _, ok := nilMemo.lookup(k); ok {
		t.Error("nil Memo remembers")
	}
	nilMemo.store(k, sum)
}

func TestMemoCap(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 14 MB memo")
	}
	p := filepath.Join(t.TempDir(), "memo")
	m := LoadMemo(p)
	for i := range memoCap + 10 {
		k, sum := memoEntry(i)
		m.store(k, sum)
	}
	// Everything was used since load, so everything is kept.
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	m = LoadMemo(p)
	if len(m.entries) != memoCap+10 {
		t.Fatalf("kept %d used entries, want %d", len(m.entries), memoCap+10)
	}
	// Use the last-saved entry and add one: the oldest unused ones go.
	last, _ := memoEntry(memoCap + 9)
	if _, ok := m.lookup(last); !ok {
		t.Fatal("entry missing")
	}
	k, sum := memoEntry(-1)
	m.store(k, sum)
	if err := m.Save(); err != nil {
		t.Fatal(err)
	}
	m = LoadMemo(p)
	if len(m.entries) != memoCap {
		t.Errorf("kept %d entries, want the cap %d", len(m.entries), memoCap)
	}
	for _, i := range []int{-1, memoCap + 9, 0, memoCap - 3} {
		if k, _ := memoEntry(i); !has(m, k) {
			t.Errorf("entry %d dropped, want it kept", i)
		}
	}
	for _, i := range []int{memoCap + 8, memoCap - 2} {
		if k, _ := memoEntry(i); has(m, k) {
			t.Errorf("entry %d kept, want it dropped", i)
		}
	}
}

func has(m *Memo, k memoKey) bool {
	_, ok := m.entries[k]
	return ok
}

func TestMemoConcurrentSaves(t *testing.T) {
	p := filepath.Join(t.TempDir(), "memo")
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := range 10 {
				m := LoadMemo(p)
				for i := range 500 {
					k, sum := memoEntry(w*100_000 + round*1000 + i)
					m.store(k, sum)
				}
				if err := m.Save(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	m := LoadMemo(p)
	if len(m.entries) < 500 {
		t.Errorf("memo after concurrent saves has %d entries, want at least one saver's 500 (file torn?)", len(m.entries))
	}
}
