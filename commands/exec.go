package commands

import (
	"errors"
	"fmt"
	"os"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
)

func newExecCommand() *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "Execute a command in a running container",
		ArgsUsage: "[OPTIONS] CONTAINER COMMAND [ARG...]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "interactive", Aliases: []string{"i"}, Usage: "keep STDIN open even if not attached"},
			&cli.BoolFlag{Name: "tty", Aliases: []string{"t"}, Usage: "allocate a pseudo-TTY"},
			&cli.BoolFlag{Name: "detach", Aliases: []string{"d"}, Usage: "detached mode: run command in the background"},
			&cli.StringSliceFlag{Name: "env", Aliases: []string{"e"}, Usage: "set environment variables"},
			&cli.StringSliceFlag{Name: "env-file", Usage: "read in a file of environment variables"},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "username or UID (format: <name|uid>[:<group|gid>])"},
			&cli.StringFlag{Name: "workdir", Aliases: []string{"w"}, Usage: "working directory inside the container"},
			&cli.BoolFlag{Name: "privileged", Usage: "give extended privileges to the command"},
		},
		Action: runExec,
	}
}

func runExec(c *cli.Context) error {
	if err := checkArgs(c, 2, -1); err != nil {
		return err
	}
	env, err := envFromFlags(c)
	if err != nil {
		return toolError(err)
	}
	req := run.ExecRequest{
		Args: c.Args().Tail(), Env: env, User: c.String("user"), WorkingDir: c.String("workdir"),
		Privileged: c.Bool("privileged"), Detach: c.Bool("detach"),
		Tty: c.Bool("tty") && !c.Bool("detach"),
	}
	stdin, stdout, stderr, err := execStreams(c)
	if err != nil {
		return err
	}
	defer stdin.Close()
	return withContainer(c, func(_ *session, st *storage.Store, ctr *storage.Container) error {
		code, err := run.Exec(c.Context, st, ctr, req, run.Stdio{Stdin: stdin, Stdout: stdout, Stderr: stderr}, c.Bool("interactive"))
		if errors.Is(err, run.ErrInputNotTerminal) {
			return &exitCode{code: ExitError, err: err}
		}
		if errors.Is(err, run.ErrNotRunning) {
			return fmt.Errorf("container %s is not running", ctr.ID)
		}
		var se *run.StartError
		if errors.As(err, &se) {
			return &exitCode{code: code, err: err}
		}
		if err != nil {
			return err
		}
		return &exitCode{code: code}
	})
}

// execStreams returns the files handed to the exec'd process: the
// caller's own when it runs attached (standard input only with -i).
func execStreams(c *cli.Context) (stdin, stdout, stderr *os.File, err error) {
	out, ok1 := c.App.Writer.(*os.File)
	errw, ok2 := c.App.ErrWriter.(*os.File)
	in, ok3 := c.App.Reader.(*os.File)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, nil, errors.New("internal error: exec needs the process's own standard streams")
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, nil, nil, err
	}
	if c.Bool("detach") {
		devnullW, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		return devnull, devnullW, devnullW, nil
	}
	if c.Bool("interactive") {
		devnull.Close()
		return dupFile(in), out, errw, nil
	}
	return devnull, out, errw, nil
}

// dupFile duplicates f so that closing the copy leaves f open.
func dupFile(f *os.File) *os.File {
	fd, err := dupFD(int(f.Fd()))
	if err != nil {
		return f
	}
	return os.NewFile(uintptr(fd), f.Name())
}
