package commands

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
	"go.podman.io/storage/pkg/archive"
)

func newCpCommand() *cli.Command {
	return &cli.Command{
		Name:  "cp",
		Usage: "Copy files/folders between a container and the local filesystem",
		ArgsUsage: "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n" +
			"   burrow cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "archive", Aliases: []string{"a"}, Usage: "archive mode (copy all uid/gid information)"},
			&cli.BoolFlag{Name: "follow-link", Aliases: []string{"L"}, Usage: "always follow symbol link in SRC_PATH"},
			quietFlag("suppress progress output"),
		},
		Action: runCp,
	}
}

// splitCopyArg tells "CONTAINER:PATH" from a local path, as Docker does: a
// local path may hold ':' only after a '/' or when it starts with '.'.
func splitCopyArg(arg string) (ctr, path string) {
	if strings.HasPrefix(arg, "/") || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	i := strings.Index(arg, ":")
	if i < 0 || strings.Contains(arg[:i], "/") {
		return "", arg
	}
	return arg[:i], arg[i+1:]
}

func runCp(c *cli.Context) error {
	if err := checkArgs(c, 2, 2); err != nil {
		return err
	}
	srcCtr, srcPath := splitCopyArg(c.Args().Get(0))
	dstCtr, dstPath := splitCopyArg(c.Args().Get(1))
	switch {
	case srcCtr != "" && dstCtr != "":
		return toolError(errors.New("copying between containers is not supported"))
	case srcCtr == "" && dstCtr == "":
		return toolError(errors.New("must specify at least one container source"))
	}
	return withStore(c, func(s *session, st *storage.Store) error {
		single := s.plan.Mode == "single"
		if srcCtr != "" {
			return copyOut(c, st, srcCtr, srcPath, dstPath, single)
		}
		return copyIn(c, st, srcPath, dstCtr, dstPath, single)
	})
}

// withContainerFS runs fn on a container's filesystem: through its
// monitor when it runs (its root filesystem is mounted there), or mounted
// here when it does not.
func withContainerFS(st *storage.Store, ref string, req run.ExecRequest, stream *os.File) error {
	ctr, err := st.LookupContainer(ref)
	if err != nil {
		return err
	}
	dir, err := st.ContainerRunDir(ctr)
	if err != nil {
		return err
	}
	state, err := run.CurrentState(st, ctr)
	if err != nil {
		return err
	}
	if state.Status == "running" {
		devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return err
		}
		defer devnull.Close()
		in, out := devnull, devnull
		if req.Copy == "in" {
			in = stream
		} else {
			out = stream
		}
		_, err = run.Exec(dir, req, in, out, devnull, nil)
		if !errors.Is(err, run.ErrNotRunning) {
			return err
		}
	}
	rootfs, err := st.MountContainer(ctr)
	if err != nil {
		return err
	}
	defer st.UnmountContainer(ctr)
	if req.Copy == "in" {
		return run.CopyIn(rootfs, req.CopySpec, stream)
	}
	return run.CopyOut(rootfs, req.CopySpec, stream)
}

func copyOut(c *cli.Context, st *storage.Store, ref, src, dst string, single bool) error {
	spec := run.CopySpec{Path: src, KeepOwners: c.Bool("archive"), SingleID: single}
	target := dst
	if dst != "-" {
		if fi, err := os.Stat(dst); err == nil && fi.IsDir() {
			target = dst // copy into it
		} else {
			if strings.HasSuffix(dst, "/") {
				return fmt.Errorf("destination directory %s does not exist", dst)
			}
			spec.Rename, target = filepath.Base(dst), filepath.Dir(dst)
			if fi, err := os.Stat(target); err != nil || !fi.IsDir() {
				return fmt.Errorf("the directory %s does not exist", target)
			}
		}
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		defer pr.Close()
		if dst == "-" {
			_, err := io.Copy(c.App.Writer, pr)
			done <- err
			return
		}
		// Copied out, the files belong to the user who asked.
		done <- archive.Untar(pr, target, &archive.TarOptions{NoLchown: true})
	}()
	err = withContainerFS(st, ref, run.ExecRequest{Copy: "out", CopySpec: spec}, pw)
	pw.Close()
	if derr := <-done; err == nil {
		err = derr
	}
	return err
}

func copyIn(c *cli.Context, st *storage.Store, src, ref, dst string, single bool) error {
	spec := run.CopySpec{Path: dst, KeepOwners: c.Bool("archive"), SingleID: single}
	var tarStream io.ReadCloser
	if src == "-" {
		tarStream = io.NopCloser(c.App.Reader)
	} else {
		fi, err := os.Lstat(src)
		if err != nil {
			return fmt.Errorf("could not find the file %s: %w", src, errors.Unwrap(err))
		}
		if c.Bool("follow-link") && fi.Mode()&os.ModeSymlink != 0 {
			if src, err = filepath.EvalSymlinks(src); err != nil {
				return err
			}
		}
		spec.SrcBase = filepath.Base(src)
		if tarStream, err = archive.TarWithOptions(filepath.Dir(src), &archive.TarOptions{IncludeFiles: []string{spec.SrcBase}}); err != nil {
			return err
		}
	}
	defer tarStream.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() {
		_, _ = io.Copy(pw, tarStream) // a short stream fails the extraction
		pw.Close()
	}()
	defer pr.Close()
	return withContainerFS(st, ref, run.ExecRequest{Copy: "in", CopySpec: spec}, pr)
}
