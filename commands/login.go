package commands

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/storage/transport/registry"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func newLoginCommand() *cli.Command {
	return &cli.Command{
		Name:      "login",
		Usage:     "Log in to a registry",
		ArgsUsage: "[SERVER]",
		Description: "With no SERVER, Docker Hub (or where config.toml relocates docker.io).\n" +
			"Credentials are checked, then stored in Podman's auth file ($XDG_RUNTIME_DIR/containers/auth.json);\n" +
			"Docker's ~/.docker/config.json and its credential helpers are read too.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "username", Aliases: []string{"u"}, Usage: "username"},
			&cli.StringFlag{Name: "password", Aliases: []string{"p"}, Usage: "password"},
			&cli.BoolFlag{Name: "password-stdin", Usage: "take the password from stdin"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
		},
		Action: runLogin,
	}
}

func runLogin(c *cli.Context) error {
	if err := checkArgs(c, 0, 1); err != nil {
		return err
	}
	user, pass := c.String("username"), c.String("password")
	if c.IsSet("password") {
		fmt.Fprintln(c.App.ErrWriter, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.")
		if c.Bool("password-stdin") {
			return toolError(errors.New("--password and --password-stdin are mutually exclusive"))
		}
	}
	s, err := newSession(c)
	if err != nil {
		return err
	}
	ropts := registryOptions(s.cfg, c)
	host, _ := registry.LoginHost(ropts, c.Args().First())
	if c.Bool("password-stdin") {
		if user == "" {
			return toolError(errors.New("Must provide --username with --password-stdin"))
		}
		data, err := io.ReadAll(c.App.Reader)
		if err != nil {
			return fmt.Errorf("reading the password from stdin: %w", err)
		}
		pass = strings.TrimRight(string(data), "\r\n")
	}
	in, interactive := c.App.Reader.(*os.File)
	interactive = interactive && isTerminal(in)
	if user == "" {
		if !interactive {
			return toolError(fmt.Errorf("cannot prompt for a username: stdin is not a terminal (hint: burrow login -u USER --password-stdin %s)", host))
		}
		fmt.Fprintf(c.App.Writer, "Username: ")
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("reading the username: %w", err)
		}
		user = strings.TrimSpace(line)
	}
	if pass == "" {
		if !interactive {
			return toolError(fmt.Errorf("cannot prompt for a password: stdin is not a terminal (hint: burrow login -u %s --password-stdin %s)", user, host))
		}
		fmt.Fprintf(c.App.Writer, "Password: ")
		pass, err = readPassword(in)
		fmt.Fprintln(c.App.Writer)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
	}
	if user == "" || pass == "" {
		return toolError(errors.New("Error: Username and password are required"))
	}
	if _, err := registry.Login(c.Context, ropts, c.Args().First(), user, pass); err != nil {
		return err
	}
	fmt.Fprintln(c.App.Writer, "Login Succeeded")
	return nil
}

// readPassword reads a line from a terminal with echo off.
func readPassword(f *os.File) (string, error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return "", err
	}
	noEcho := *old
	noEcho.Lflag &^= unix.ECHO
	noEcho.Lflag |= unix.ICANON | unix.ISIG
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err != nil {
		return "", err
	}
	defer unix.IoctlSetTermios(fd, unix.TCSETS, old) //nolint:errcheck // best effort
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newLogoutCommand() *cli.Command {
	return &cli.Command{
		Name:      "logout",
		Usage:     "Log out from a registry",
		ArgsUsage: "[SERVER]",
		Action: func(c *cli.Context) error {
			if err := checkArgs(c, 0, 1); err != nil {
				return err
			}
			s, err := newSession(c)
			if err != nil {
				return err
			}
			host, found, err := registry.Logout(registryOptions(s.cfg, nil), c.Args().First())
			if err != nil {
				return err
			}
			if !found {
				fmt.Fprintf(c.App.Writer, "Not logged in to %s\n", host)
				return nil
			}
			fmt.Fprintf(c.App.Writer, "Removing login credentials for %s\n", host)
			return nil
		},
	}
}
