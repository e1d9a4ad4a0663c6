package commands

import "github.com/urfave/cli/v2"

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "root", Usage: "storage root directory (default: $XDG_DATA_HOME/burrow/storage)", EnvVars: []string{"BURROW_ROOT"}},
		&cli.StringFlag{Name: "runroot", Usage: "run state directory (default: $XDG_RUNTIME_DIR/burrow, else /tmp/burrow-run-$UID)"},
		&cli.StringFlag{Name: "storage-driver", Usage: "storage driver: overlay or vfs (default: overlay when possible)"},
		&cli.StringFlag{Name: "log-level", Aliases: []string{"l"}, Usage: "log level: debug, info, warn, error"},
		&cli.BoolFlag{Name: "debug", Aliases: []string{"D"}, Usage: "same as --log-level debug"},
	}
}

// formatFlag is Docker's --format for listing commands.
func formatFlag(usage string) *cli.StringFlag {
	return &cli.StringFlag{Name: "format", Usage: usage}
}

// filterFlag is Docker's repeatable --filter.
func filterFlag() *cli.StringSliceFlag {
	return &cli.StringSliceFlag{Name: "filter", Aliases: []string{"f"}, Usage: "filter output based on conditions provided"}
}

func quietFlag(usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: usage}
}

func noTruncFlag() *cli.BoolFlag {
	return &cli.BoolFlag{Name: "no-trunc", Usage: "don't truncate output"}
}

func forceFlag(usage string) *cli.BoolFlag {
	return &cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: usage}
}

// stopFlags are stop's and restart's -t and -s.
func stopFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "time", Aliases: []string{"t"}, Value: -1, Usage: "seconds to wait before killing the container (default: the container's stop timeout, 10)"},
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Usage: "signal to send to the container"},
	}
}
