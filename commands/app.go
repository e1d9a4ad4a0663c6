// Package commands is burrow's command line: urfave/cli wiring that turns
// flags into Options, makes one library call and prints the result the way
// Docker prints it. Nothing imports it but main.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"

	"github.com/burrow-oci/burrow/internal/cliflags"
)

// Exit codes, as Docker uses them.
const (
	ExitError = 1   // a command failed
	ExitTool  = 125 // burrow itself failed before running anything
)

// ExitError carries an exit code chosen by a command (for example `image
// exists`, which says "no" with 1 and no message).
type exitCode struct {
	code int
	err  error
}

func (e *exitCode) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitCode) Unwrap() error { return e.err }

// toolError marks a failure of burrow itself (bad flags, no namespace, an
// unusable store): exit code 125.
func toolError(err error) error {
	if err == nil {
		return nil
	}
	return &exitCode{code: ExitTool, err: err}
}

// ExitCodeOf maps an error returned by Run to the process's exit code.
func ExitCodeOf(err error) int {
	if err == nil {
		return 0
	}
	var ec *exitCode
	if errors.As(err, &ec) {
		return ec.code
	}
	return ExitError
}

// Message is the one line main prints for err, or "" when the command
// already said everything.
func Message(err error) string {
	var ec *exitCode
	if errors.As(err, &ec) && ec.err == nil {
		return ""
	}
	return "Error: " + err.Error()
}

// Version information, set by main from the build.
type Version struct {
	Version string
	Commit  string
}

// Run runs the command line args (args[0] is the program name).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, v Version) error {
	app := newApp(v)
	app.Reader, app.Writer, app.ErrWriter = stdin, stdout, stderr
	notFound := false
	app.CommandNotFound = func(c *cli.Context, name string) {
		fmt.Fprintf(c.App.ErrWriter, "burrow: '%s' is not a burrow command.\nSee 'burrow --help'\n", name)
		notFound = true
	}
	err := app.RunContext(ctx, args)
	if err == nil && notFound {
		return &exitCode{code: ExitTool}
	}
	return err
}

func newApp(v Version) *cli.App {
	app := &cli.App{
		Name:                   "burrow",
		Usage:                  "build and run OCI containers without root and without a daemon",
		Version:                v.Version,
		UseShortOptionHandling: true,
		EnableBashCompletion:   true,
		Flags:                  globalFlags(),
		Metadata:               map[string]any{"version": v},
		ExitErrHandler:         func(*cli.Context, error) {},
		OnUsageError:           usageError,
		// Docker splits no flag values on commas: --change 'CMD ["a", "b"]'.
		DisableSliceFlagSeparator: true,
		Commands: []*cli.Command{
			newImagesCommand(),
			newImageCommand(),
			newBuildCommand("build"),
			newBuilderCommand(),
			newVolumeCommand(),
			newBuildxCommand(),
			newPullCommand(), newPushCommand(), newLoginCommand(), newLogoutCommand(), newSearchCommand(),
			newImportCommand(),
			newSaveCommand(),
			newLoadCommand(),
			newTagCommand(),
			newRmiCommand(),
			newHistoryCommand(),
			newInspectCommand(),
			newInfoCommand(),
			newVersionCommand(),
			newUnshareCommand(),
			newSystemCommand(),
			newRunCommand(),
			newCreateCommand(),
			newStartCommand(),
			newStopCommand(),
			newRestartCommand(),
			newKillCommand(),
			newWaitCommand(),
			newRmCommand(),
			newPsCommand(),
			newLogsCommand(),
			newExecCommand(),
			newCommitCommand(),
			newDiffCommand(),
			newExportCommand(),
			newCpCommand(),
			newRenameCommand(),
			newTopCommand(),
			newPortCommand(),
			newPauseCommand("pause"),
			newPauseCommand("unpause"),
			newAttachCommand(),
			newContainerCommand(),
			newMonitorCommand(),
			newInitCommand(),
		},
	}
	app.Commands = append(append(app.Commands, docsCommands()...), newNetworkCommand()...)
	for _, c := range app.Commands {
		setUsageErrors(c)
	}
	cliflags.Cache(app)
	return app
}

// setUsageErrors sets Docker's usage errors, and hides the help command
// of leaf commands, where it would shadow an argument (`rm h`).
func setUsageErrors(c *cli.Command) {
	c.OnUsageError = usageError
	c.HideHelpCommand = len(c.Subcommands) == 0
	for _, sub := range c.Subcommands {
		setUsageErrors(sub)
	}
}

// usageError reports a bad flag as Docker does, with exit code 125.
func usageError(c *cli.Context, err error, _ bool) error {
	return toolError(fmt.Errorf("%v\nSee '%s --help'", err, strings.TrimSpace("burrow "+c.Command.FullName())))
}

// argsError is a wrong number of arguments, worded as Docker words it.
func argsError(c *cli.Context, want string) error {
	return toolError(fmt.Errorf("\"burrow %s\" requires %s.\nSee 'burrow %s --help'.\n\nUsage:  burrow %s %s",
		c.Command.FullName(), want, c.Command.FullName(), c.Command.FullName(), c.Command.ArgsUsage))
}

// checkArgs enforces a minimum and maximum (-1: none) number of arguments.
func checkArgs(c *cli.Context, min, max int) error {
	n := c.NArg()
	switch {
	case min == max && n != min:
		return argsError(c, plural(min, "argument", "exactly "))
	case n < min:
		return argsError(c, plural(min, "argument", "at least "))
	case max >= 0 && n > max:
		return argsError(c, plural(max, "argument", "at most "))
	}
	return nil
}

func plural(n int, word, prefix string) string {
	if n == 1 {
		return prefix + "1 " + word
	}
	return fmt.Sprintf("%s%d %ss", prefix, n, word)
}

// isTerminal reports whether r (a reader or writer) is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
