//go:build !burrow_docs

package commands

import "github.com/urfave/cli/v2"

// docsCommands is empty in the normal binary; see docs.go.
func docsCommands() []*cli.Command { return nil }
