//go:build burrow_docs

package commands

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"
)

func docsCommands() []*cli.Command { return []*cli.Command{newDocsCommand()} }

// newDocsCommand writes the command reference from the command tree itself
// (docs/reference.md and a man page), so that it cannot drift from the
// flags. It is hidden, and only in the binary `make docs` builds (the tag
// burrow_docs): the markdown renderer it needs costs every start 0.3 ms of
// package initialisation.
func newDocsCommand() *cli.Command {
	return &cli.Command{
		Name:      "__docs",
		Hidden:    true,
		ArgsUsage: "DIR",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 1, 1); err != nil {
				return err
			}
			dir := c.Args().First()
			md, err := c.App.ToMarkdown()
			if err != nil {
				return fmt.Errorf("rendering markdown: %w", err)
			}
			man, err := c.App.ToMan()
			if err != nil {
				return fmt.Errorf("rendering the man page: %w", err)
			}
			if err := os.WriteFile(filepath.Join(dir, "reference.md"), []byte(md), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, "burrow.1"), []byte(man), 0o644)
		},
	}
}
