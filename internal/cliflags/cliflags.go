// Package cliflags makes urfave/cli's flag lookups cheap. Every IsSet of a
// flag that is not set (the CLI runs one per flag of the command before
// the command's action) asks every flag of the command for its names,
// and each Names call runs a regular expression over each name: for
// `run`'s hundred flags, ten thousand matches, 0.7 ms of every run on a
// 2-core machine. The flags Cache wraps answer Names from a slice made
// once; everything else is the wrapped flag's.
package cliflags

import "github.com/urfave/cli/v2"

// Cache wraps the flags of app and of all its commands, at any depth.
func Cache(app *cli.App) {
	app.Flags = wrap(app.Flags)
	cacheCommands(app.Commands)
}

func cacheCommands(cmds []*cli.Command) {
	for _, c := range cmds {
		c.Flags = wrap(c.Flags)
		cacheCommands(c.Subcommands)
	}
}

// wrap returns flags with those of the common kinds wrapped. (urfave/cli
// looks for *cli.BoolFlag itself only for a hidden one, in completions,
// and for DisableDefaultText, in help: those are left as they are.)
func wrap(flags []cli.Flag) []cli.Flag {
	out := make([]cli.Flag, len(flags))
	for i, f := range flags {
		out[i] = f
		switch f := f.(type) {
		case *cli.BoolFlag:
			if !f.Hidden && !f.DisableDefaultText {
				out[i] = &boolFlag{f, f.Names()}
			}
		case *cli.StringFlag:
			out[i] = &stringFlag{f, f.Names()}
		case *cli.StringSliceFlag:
			out[i] = &stringSliceFlag{f, f.Names()}
		case *cli.IntFlag:
			out[i] = &intFlag{f, f.Names()}
		case *cli.DurationFlag:
			out[i] = &durationFlag{f, f.Names()}
		}
	}
	return out
}

type boolFlag struct {
	*cli.BoolFlag
	names []string
}

func (f *boolFlag) Names() []string { return f.names }

type stringFlag struct {
	*cli.StringFlag
	names []string
}

func (f *stringFlag) Names() []string { return f.names }

type stringSliceFlag struct {
	*cli.StringSliceFlag
	names []string
}

func (f *stringSliceFlag) Names() []string { return f.names }

type intFlag struct {
	*cli.IntFlag
	names []string
}

func (f *intFlag) Names() []string { return f.names }

type durationFlag struct {
	*cli.DurationFlag
	names []string
}

func (f *durationFlag) Names() []string { return f.names }
