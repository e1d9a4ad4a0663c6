package commands

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

func newInspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "Return low-level information on containers and images",
		ArgsUsage: "[OPTIONS] NAME|ID [NAME|ID...]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Usage: "format output using a Go template ('json' for JSON)"},
			&cli.StringFlag{Name: "type", Usage: "only inspect objects of this type (container or image)"},
			&cli.BoolFlag{Name: "size", Aliases: []string{"s"}, Usage: "display total file sizes (accepted for Docker compatibility)"},
		},
		Action: runInspect,
	}
}

// imageInspect is Docker's image inspect document, field for field.
type imageInspect struct {
	ID            string          `json:"Id"`
	RepoTags      []string        `json:"RepoTags"`
	RepoDigests   []string        `json:"RepoDigests"`
	Parent        string          `json:"Parent"`
	Comment       string          `json:"Comment"`
	Created       string          `json:"Created"`
	DockerVersion string          `json:"DockerVersion"`
	Author        string          `json:"Author"`
	Config        containerConfig `json:"Config"`
	Architecture  string          `json:"Architecture"`
	Variant       string          `json:"Variant,omitempty"`
	Os            string          `json:"Os"`
	Size          int64           `json:"Size"`
	GraphDriver   graphDriver     `json:"GraphDriver"`
	RootFS        rootFS          `json:"RootFS"`
	Metadata      struct {
		LastTagTime string `json:"LastTagTime"`
	} `json:"Metadata"`
}

// containerConfig is Docker's container config as image inspect shows it.
type containerConfig struct {
	Hostname     string                `json:"Hostname"`
	Domainname   string                `json:"Domainname"`
	User         string                `json:"User"`
	AttachStdin  bool                  `json:"AttachStdin"`
	AttachStdout bool                  `json:"AttachStdout"`
	AttachStderr bool                  `json:"AttachStderr"`
	ExposedPorts map[string]struct{}   `json:"ExposedPorts,omitempty"`
	Tty          bool                  `json:"Tty"`
	OpenStdin    bool                  `json:"OpenStdin"`
	StdinOnce    bool                  `json:"StdinOnce"`
	Env          []string              `json:"Env"`
	Cmd          []string              `json:"Cmd"`
	Healthcheck  *storage.HealthConfig `json:"Healthcheck,omitempty"`
	ArgsEscaped  bool                  `json:"ArgsEscaped,omitempty"`
	Image        string                `json:"Image"`
	Volumes      map[string]struct{}   `json:"Volumes"`
	WorkingDir   string                `json:"WorkingDir"`
	Entrypoint   []string              `json:"Entrypoint"`
	OnBuild      []string              `json:"OnBuild"`
	Labels       map[string]string     `json:"Labels"`
	StopSignal   string                `json:"StopSignal,omitempty"`
	Shell        []string              `json:"Shell,omitempty"`
}

type graphDriver struct {
	Data map[string]string `json:"Data"`
	Name string            `json:"Name"`
}

type rootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

func runInspect(c *cli.Context) error {
	if err := checkArgs(c, 1, -1); err != nil {
		return err
	}
	kind := c.String("type")
	if kind != "" && kind != "image" && kind != "container" {
		return toolError(fmt.Errorf("%q is not a valid value for --type (hint: container or image)", kind))
	}
	format := c.String("format")
	if format != "" && format != "json" {
		if _, err := parseTemplate(unescapeFormat(format)); err != nil {
			return err
		}
	}
	return withStore(c, func(_ *session, st *storage.Store) error {
		var docs []any
		var failed error
		for _, ref := range c.Args().Slice() {
			doc, err := inspectObject(st, ref, kind)
			if err != nil {
				if format != "" {
					fmt.Fprintln(c.App.ErrWriter, "Error: "+err.Error())
					failed = &exitCode{code: ExitError}
					continue
				}
				failed = err
				continue
			}
			docs = append(docs, doc)
		}
		if format == "" || format == "json" {
			if docs == nil {
				docs = []any{}
			}
			if err := writeJSON(c.App.Writer, docs); err != nil {
				return err
			}
			return failed
		}
		t, _ := parseTemplate(unescapeFormat(format))
		for _, d := range docs {
			// Templates see the document as generic JSON, so that
			// {{.Config.Env}} and {{index .RepoTags 0}} work as in Docker.
			var generic any
			raw, _ := json.Marshal(d)
			if err := json.Unmarshal(raw, &generic); err != nil {
				return err
			}
			generic = asDockerTypes(generic)
			var b bytes.Buffer
			if err := t.Execute(&b, generic); err != nil {
				return fmt.Errorf("template: %v", err)
			}
			fmt.Fprintln(c.App.Writer, b.String())
		}
		return failed
	})
}

func inspectImage(st *storage.Store, ref string) (*imageInspect, error) {
	img, err := st.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := st.Config(img.ID)
	if err != nil {
		return nil, err
	}
	d := &imageInspect{
		ID:           "sha256:" + img.ID,
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Created:      cfg.Created.UTC().Format(time.RFC3339Nano),
		Author:       cfg.Author,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         img.Size,
		Config:       dockerConfig(&cfg.Config, st.ConfigExtra(img.ID)),
		RootFS:       rootFS{Type: "layers", Layers: []string{}},
		GraphDriver:  graphDriver{Name: st.Driver(), Data: st.LayerDirs(img)},
	}
	d.Metadata.LastTagTime = time.Time{}.Format(time.RFC3339)
	for _, n := range img.Names {
		d.RepoTags = append(d.RepoTags, reference.Short(n))
	}
	for _, n := range img.Digests {
		d.RepoDigests = append(d.RepoDigests, reference.Short(n))
	}
	for _, h := range cfg.RootFS.DiffIDs {
		d.RootFS.Layers = append(d.RootFS.Layers, h.String())
	}
	if n := len(cfg.History); n > 0 {
		d.Comment = cfg.History[n-1].Comment
	}
	return d, nil
}

func dockerConfig(c *v1.Config, extra storage.ConfigExtra) containerConfig {
	out := containerConfig{
		Hostname: c.Hostname, Domainname: c.Domainname, User: c.User,
		AttachStdin: c.AttachStdin, AttachStdout: c.AttachStdout, AttachStderr: c.AttachStderr,
		ExposedPorts: c.ExposedPorts, Tty: c.Tty, OpenStdin: c.OpenStdin, StdinOnce: c.StdinOnce,
		Env: c.Env, Cmd: c.Cmd, ArgsEscaped: c.ArgsEscaped, Image: c.Image, Volumes: c.Volumes,
		WorkingDir: c.WorkingDir, Entrypoint: c.Entrypoint, OnBuild: c.OnBuild, Labels: c.Labels,
		StopSignal: c.StopSignal, Shell: c.Shell,
	}
	if h := c.Healthcheck; h != nil {
		hc := storage.DockerHealth(h, extra)
		out.Healthcheck = &hc
	}
	return out
}

// inspectObject finds what ref names, a container first, as Docker looks.
func inspectObject(st *storage.Store, ref, kind string) (any, error) {
	if kind != "image" {
		ctr, err := st.LookupContainer(ref)
		if err == nil {
			return inspectContainer(st, ctr)
		}
		if kind == "container" || !errors.Is(err, storage.ErrContainerUnknown) {
			return nil, err
		}
	}
	img, err := inspectImage(st, ref)
	if err != nil && kind == "" && errors.Is(err, storage.ErrImageUnknown) {
		return nil, fmt.Errorf("No such object: %s", ref)
	}
	return img, err
}

// newTypedInspectCommand is `container inspect` or `image inspect`: inspect
// restricted to one kind of object.
func newTypedInspectCommand(kind string) *cli.Command {
	c := newInspectCommand()
	c.Usage = "Display detailed information on one or more " + kind + "s"
	c.Action = func(ctx *cli.Context) error {
		if err := ctx.Set("type", kind); err != nil {
			return err
		}
		return runInspect(ctx)
	}
	return c
}

// asDockerTypes turns the whole numbers of a generic JSON document back
// into integers, so that {{.Size}} prints 1996800 as Docker's typed
// documents do, not JSON's float64 1.9968e+06; a health check's times
// become durations again ({{.Config.Healthcheck.Interval}} prints 30s,
// and {{json}} still gives nanoseconds). A null prints as it would from
// Docker's typed field: [] for a list, map[] for a map, <nil> for the
// rest (pointers), instead of <no value>; {{json}} still gives null.
func asDockerTypes(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if e == nil {
				x[k] = dockerNull(k)
				continue
			}
			x[k] = asDockerTypes(e)
		}
		if hc, ok := x["Healthcheck"].(map[string]any); ok {
			for _, k := range []string{"Interval", "Timeout", "StartPeriod", "StartInterval"} {
				if n, ok := hc[k].(int64); ok {
					hc[k] = time.Duration(n)
				}
			}
		}
	case []any:
		for i, e := range x {
			x[i] = asDockerTypes(e)
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
	}
	return v
}

// Fields that Docker's inspect documents type as lists and as maps.
var (
	dockerListFields = map[string]bool{"Cmd": true, "Entrypoint": true, "Env": true, "OnBuild": true, "Shell": true,
		"RepoTags": true, "RepoDigests": true, "Layers": true, "Mounts": true, "Args": true, "Binds": true,
		"Dns": true, "DnsOptions": true, "DnsSearch": true, "ExtraHosts": true, "CapAdd": true, "CapDrop": true,
		"SecurityOpt": true, "Devices": true, "Links": true, "VolumesFrom": true, "GroupAdd": true, "Test": true}
	dockerMapFields = map[string]bool{"Labels": true, "Volumes": true, "ExposedPorts": true, "Ports": true,
		"PortBindings": true, "Tmpfs": true, "Sysctls": true, "StorageOpt": true, "Networks": true}
)

// dockerNull is what Docker's typed document holds for a null field.
func dockerNull(key string) any {
	switch {
	case dockerListFields[key]:
		return []string(nil)
	case dockerMapFields[key]:
		return map[string]any(nil)
	}
	return (*struct{})(nil)
}
