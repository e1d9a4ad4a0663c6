package copier

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestFetch(t *testing.T) {
	body := []byte("#!/bin/sh\necho hi\n")
	sum := fmt.Sprintf("sha256:%x", sha256.Sum256(body))
	lastMod := time.Date(2021, 6, 7, 8, 9, 10, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dl/tool.sh", "/":
			w.Header().Set("Last-Modified", lastMod.Format(http.TimeFormat))
			w.Write(body)
		case "/plain":
			w.Write(body)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	tests := []struct {
		name      string
		url       string
		checksum  string
		wantName  string
		wantMtime time.Time
		wantErr   string
	}{
		{name: "with checksum and Last-Modified", url: srv.URL + "/dl/tool.sh?x=1", checksum: sum, wantName: "tool.sh", wantMtime: lastMod},
		{name: "no checksum, no Last-Modified", url: srv.URL + "/plain", wantName: "plain"},
		{name: "no path", url: srv.URL + "/", wantName: "__unnamed__", wantMtime: lastMod},
		{name: "checksum mismatch", url: srv.URL + "/dl/tool.sh", checksum: "sha256:" + strings.Repeat("0", 64),
			wantErr: "content has checksum " + sum + ", want sha256:" + strings.Repeat("0", 64)},
		{name: "bad checksum", url: srv.URL + "/dl/tool.sh", checksum: "md5:abc", wantErr: `unsupported checksum "md5:abc"`},
		{name: "not found", url: srv.URL + "/missing", wantErr: "ADD failed: GET " + srv.URL + "/missing: 404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p, name, mtime, err := Fetch(context.Background(), tt.url, tt.checksum, dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Fetch: got error %v, want one containing %q", err, tt.wantErr)
				}
				if left, _ := os.ReadDir(dir); len(left) != 0 {
					t.Errorf("Fetch left %d entries in %s after failing", len(left), dir)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tt.wantName || filepath.Base(p) != name {
				t.Errorf("Fetch = %q, %q; want a path ending in %q", p, name, tt.wantName)
			}
			if !mtime.Equal(tt.wantMtime) {
				t.Errorf("mtime = %v, want %v", mtime, tt.wantMtime)
			}
			got, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(got, body) {
				t.Errorf("downloaded %q, %v; want %q", got, err, body)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			wantFileTime := tt.wantMtime
			if wantFileTime.IsZero() {
				wantFileTime = time.Unix(0, 0)
			}
			if fi.Mode().Perm() != 0o600 || !fi.ModTime().Equal(wantFileTime) {
				t.Errorf("file mode %v mtime %v, want 0600 and %v", fi.Mode().Perm(), fi.ModTime(), wantFileTime)
			}

			// The download is a source like any other.
			r := &Root{Dir: filepath.Dir(p), Name: "download"}
			srcs, err := r.Select([]string{name})
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Write(&buf, r, srcs, Options{Instruction: "ADD", Dest: "/bin/"}); err != nil {
				t.Fatal(err)
			}
			want := []string{"d bin/ 0755 0:0", fmt.Sprintf("f bin/%s 0600 0:0 %d", name, len(body))}
			if got := listing(t, buf.Bytes()); !slices.Equal(got, want) {
				t.Errorf("layer listing differs:\n%s", diffLines(got, want))
			}
		})
	}
}

func TestFetchCancelled(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, _, _, err := Fetch(ctx, srv.URL+"/slow", "", t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("Fetch with an expiring context: got %v, want a deadline error", err)
	}
}
