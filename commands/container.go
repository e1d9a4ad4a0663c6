package commands

import "github.com/urfave/cli/v2"

// newContainerCommand is the `container` group, with Docker's names.
func newContainerCommand() *cli.Command {
	ls := newPsCommand()
	ls.Name, ls.Aliases = "ls", []string{"list", "ps"}
	inspect := newTypedInspectCommand("container")
	return &cli.Command{
		Name:  "container",
		Usage: "Manage containers",
		Subcommands: []*cli.Command{
			ls, newRunCommand(), newCreateCommand(), newStartCommand(), newStopCommand(), newRestartCommand(),
			newKillCommand(), newWaitCommand(), newRmCommand(), newLogsCommand(), newExecCommand(),
			newContainerPruneCommand(), inspect, newCommitCommand(), newDiffCommand(), newExportCommand(),
			newCpCommand(), newRenameCommand(), newTopCommand(), newPortCommand(), newPauseCommand("pause"),
			newPauseCommand("unpause"), newAttachCommand(),
		},
	}
}
