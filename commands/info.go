package commands

import (
	"fmt"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/internal/userns"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func newInfoCommand() *cli.Command {
	return &cli.Command{
		Name:  "info",
		Usage: "Display system-wide information",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format the output using a Go template ('json' for JSON)"},
		},
		Action: runInfo,
	}
}

// infoDoc is what `info` reports; --format templates use these names.
type infoDoc struct {
	Version    string
	Kernel     string
	OS         string
	ConfigFile []string
	LogLevel   string
	UserNS     struct {
		Mode           string
		User           string
		HostUID        int
		HostGID        int
		UIDMap, GIDMap []userns.IDMap
		Note           string
		Identities     string `json:",omitempty"`
	}
	Cgroups run.Cgroups
	Store   struct {
		Driver          string
		GraphRoot       string
		RunRoot         string
		BackingFS       string
		ImageCount      int
		ContainerCount  int
		GraphDriverName string
	}
}

func runInfo(c *cli.Context) error {
	return withStore(c, func(s *session, st *storage.Store) error {
		d := infoDoc{Version: c.App.Version, Kernel: kernelRelease(), OS: osName(), ConfigFile: append([]string{}, s.cfg.Files...), LogLevel: s.cfg.LogLevel}
		d.UserNS.Mode, d.UserNS.User, d.UserNS.HostUID, d.UserNS.HostGID = string(s.plan.Mode), s.plan.User, s.plan.HostUID, s.plan.HostGID
		d.UserNS.UIDMap, d.UserNS.GIDMap = s.plan.UIDMap, s.plan.GIDMap
		switch s.plan.Mode {
		case userns.ModeFull:
			d.UserNS.Note = "root in containers is you; other ids map to your subordinate range"
		case userns.ModeSingle:
			d.UserNS.Note = "only your own id is mapped: changes of owner are stored as yours (hint: an admin adds ranges to /etc/subuid and /etc/subgid for full mapping)"
			d.UserNS.Identities = run.IdentityEmulation()
		case userns.ModeHost:
			d.UserNS.Note = "running as root: no user namespace"
		}
		d.Cgroups = run.DetectCgroups()
		d.Store.Driver, d.Store.GraphDriverName = st.Driver(), st.Driver()
		d.Store.GraphRoot, d.Store.RunRoot = st.Root(), st.RunRoot()
		d.Store.BackingFS = storage.FilesystemName(st.Root())
		imgs, err := st.Images()
		if err != nil {
			return err
		}
		d.Store.ImageCount = len(imgs)
		if d.Store.ContainerCount, err = st.ContainerCount(); err != nil {
			return err
		}
		return printInfo(c, &d)
	})
}

func printInfo(c *cli.Context, d *infoDoc) error {
	w := c.App.Writer
	if f := c.String("format"); f != "" {
		return writeDoc(w, f, d)
	}
	maps := func(m []userns.IDMap) string {
		var parts []string
		for _, e := range m {
			parts = append(parts, fmt.Sprintf("%d-%d -> %d-%d", e.ContainerID, e.ContainerID+e.Size-1, e.HostID, e.HostID+e.Size-1))
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(w, "Version:      %s\n", d.Version)
	fmt.Fprintf(w, "Kernel:       %s\n", d.Kernel)
	fmt.Fprintf(w, "OS:           %s\n", d.OS)
	fmt.Fprintf(w, "Config files: %s\n", orNone(strings.Join(d.ConfigFile, ", ")))
	fmt.Fprintf(w, "Log level:    %s\n", d.LogLevel)
	fmt.Fprintf(w, "User namespace:\n")
	fmt.Fprintf(w, " Mode:        %s\n", d.UserNS.Mode)
	fmt.Fprintf(w, " User:        %s (uid %d, gid %d)\n", d.UserNS.User, d.UserNS.HostUID, d.UserNS.HostGID)
	if d.UserNS.Mode != string(userns.ModeHost) {
		fmt.Fprintf(w, " UID map:     %s\n", maps(d.UserNS.UIDMap))
		fmt.Fprintf(w, " GID map:     %s\n", maps(d.UserNS.GIDMap))
	}
	fmt.Fprintf(w, " Note:        %s\n", d.UserNS.Note)
	if d.UserNS.Identities != "" {
		fmt.Fprintf(w, " Identities:  %s\n", d.UserNS.Identities)
	}
	fmt.Fprintf(w, "Cgroups:\n")
	fmt.Fprintf(w, " Version:     %s\n", d.Cgroups.Version)
	fmt.Fprintf(w, " Limits:      %s\n", d.Cgroups.Note)
	fmt.Fprintf(w, "Storage:\n")
	fmt.Fprintf(w, " Driver:      %s\n", d.Store.Driver)
	fmt.Fprintf(w, " Backing FS:  %s\n", d.Store.BackingFS)
	fmt.Fprintf(w, " Root:        %s\n", d.Store.GraphRoot)
	fmt.Fprintf(w, " Run root:    %s\n", d.Store.RunRoot)
	fmt.Fprintf(w, " Images:      %d\n", d.Store.ImageCount)
	fmt.Fprintf(w, " Containers:  %d\n", d.Store.ContainerCount)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

func osName() string {
	data, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown"
}
