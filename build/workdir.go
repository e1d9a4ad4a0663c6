package build

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"time"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// workdir creates the new WORKDIR (and its missing parents, 0755, owned
// by the stage's USER) in a layer of its own, as BuildKit does; when the
// directory exists already, the step adds no layer.
func (s *stage) workdir(ctx context.Context) error {
	wd := s.st.cfg.Config.WorkingDir
	text := "WORKDIR " + wd
	user := s.st.cfg.Config.User
	key := s.stepKey(keyPart{"instruction", "WORKDIR"}, keyPart{"path", wd}, keyPart{"user", user})
	if wd == "/" {
		s.st.key = key.key
		s.history(text, true, s.st.created)
		return nil
	}
	if s.cached(key, text) {
		return nil
	}
	started := time.Now()
	rootfs := ""
	if s.st.top != "" {
		sc, err := s.b.st.NewScratch(s.st.top)
		if err != nil {
			return err
		}
		defer s.b.st.DropScratch(sc)
		rootfs = sc.Root
	}
	// missing are the directories to create; kept, the existing parents
	// above them, which go into the layer too with the image's metadata:
	// unpacking creates a parent the layer lacks with mode 0755.
	var missing, keptNames []string
	var kept []os.FileInfo
	for p := wd; p != "/"; p = path.Dir(p) {
		if rootfs == "" {
			missing = append([]string{p}, missing...)
			continue
		}
		full, err := securejoin.SecureJoin(rootfs, p)
		if err != nil {
			return err
		}
		if _, err := os.Lstat(full); err != nil {
			missing = append([]string{p}, missing...)
			continue
		}
		for q := p; q != "/" && len(missing) > 0; q = path.Dir(q) {
			fi, err := os.Lstat(filepath.Join(rootfs, q))
			if err != nil {
				break
			}
			kept = append([]os.FileInfo{fi}, kept...)
			keptNames = append([]string{q}, keptNames...)
		}
		break
	}
	e := storage.CacheEntry{Created: time.Now().UTC()}
	if len(missing) > 0 {
		uid, gid := 0, 0
		if user != "" && rootfs != "" {
			u, err := run.ResolveUser(rootfs, user)
			if err != nil {
				return err
			}
			uid, gid = int(u.UID), int(u.GID)
		}
		mtime := e.Created
		if s.b.opts.Epoch != nil {
			mtime = *s.b.opts.Epoch
		}
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			for i, fi := range kept {
				h, err := tar.FileInfoHeader(fi, "")
				if err != nil {
					pw.CloseWithError(err)
					return
				}
				h.Name, h.Uname, h.Gname, h.Format = keptNames[i][1:]+"/", "", "", tar.FormatPAX
				if err := tw.WriteHeader(h); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			for _, p := range missing {
				h := &tar.Header{Typeflag: tar.TypeDir, Name: p[1:] + "/", Mode: 0o755, Uid: uid, Gid: gid, ModTime: mtime, Format: tar.FormatPAX}
				if err := tw.WriteHeader(h); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(tw.Close())
		}()
		info, err := s.b.st.NewLayer(ctx, s.st.top, pr)
		pr.Close()
		if err != nil {
			return err
		}
		e.Layer, e.DiffID = info.ID, info.DiffID
	}
	return s.record(key, e, text, started)
}
