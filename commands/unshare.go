package commands

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"

	"github.com/urfave/cli/v2"
)

func newUnshareCommand() *cli.Command {
	return &cli.Command{
		Name:            "unshare",
		Usage:           "Run a command in burrow's user namespace (to inspect or remove files owned by subordinate ids)",
		ArgsUsage:       "[COMMAND [ARG...]]",
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			s, err := newSession(c)
			if err != nil {
				return err
			}
			if err := s.enterUserNS(); err != nil {
				return err
			}
			argv := c.Args().Slice()
			if len(argv) == 0 {
				sh := os.Getenv("SHELL")
				if sh == "" {
					sh = "/bin/sh"
				}
				argv = []string{sh}
			}
			path, err := exec.LookPath(argv[0])
			if err != nil {
				return &exitCode{code: 127, err: fmt.Errorf("%s: command not found", argv[0])}
			}
			env := append(os.Environ(),
				"BURROW_STORAGE_ROOT="+s.cfg.Storage.Root,
				"BURROW_STORAGE_RUNROOT="+s.cfg.Storage.RunRoot)
			err = syscall.Exec(path, argv, env)
			return &exitCode{code: 126, err: fmt.Errorf("running %s: %w", path, err)}
		},
	}
}
