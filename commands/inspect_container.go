package commands

import (
	"time"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
)

// containerInspect is Docker's container inspect document, with the fields
// burrow knows.
type containerInspect struct {
	ID              string          `json:"Id"`
	Created         string          `json:"Created"`
	Path            string          `json:"Path"`
	Args            []string        `json:"Args"`
	State           containerStateJ `json:"State"`
	Image           string          `json:"Image"`
	ResolvConfPath  string          `json:"ResolvConfPath"`
	HostnamePath    string          `json:"HostnamePath"`
	HostsPath       string          `json:"HostsPath"`
	LogPath         string          `json:"LogPath"`
	Name            string          `json:"Name"`
	RestartCount    int             `json:"RestartCount"`
	Driver          string          `json:"Driver"`
	Platform        string          `json:"Platform"`
	HostConfig      hostConfig      `json:"HostConfig"`
	Mounts          []any           `json:"Mounts"`
	Config          containerConfig `json:"Config"`
	NetworkSettings map[string]any  `json:"NetworkSettings"`
}

type containerStateJ struct {
	Status     string          `json:"Status"`
	Running    bool            `json:"Running"`
	Paused     bool            `json:"Paused"`
	Restarting bool            `json:"Restarting"`
	OOMKilled  bool            `json:"OOMKilled"`
	Dead       bool            `json:"Dead"`
	Pid        int             `json:"Pid"`
	ExitCode   int             `json:"ExitCode"`
	Error      string          `json:"Error"`
	StartedAt  string          `json:"StartedAt"`
	FinishedAt string          `json:"FinishedAt"`
	Health     *storage.Health `json:"Health,omitempty"`
}

type hostConfig struct {
	NetworkMode    string   `json:"NetworkMode"`
	AutoRemove     bool     `json:"AutoRemove"`
	Privileged     bool     `json:"Privileged"`
	ReadonlyRootfs bool     `json:"ReadonlyRootfs"`
	CapAdd         []string `json:"CapAdd"`
	CapDrop        []string `json:"CapDrop"`
	ExtraHosts     []string `json:"ExtraHosts"`
	RestartPolicy  struct {
		Name              string `json:"Name"`
		MaximumRetryCount int    `json:"MaximumRetryCount"`
	} `json:"RestartPolicy"`
}

func inspectContainer(st *storage.Store, ctr *storage.Container) (*containerInspect, error) {
	state, err := run.State(st, ctr)
	if err != nil {
		return nil, err
	}
	imgCfg, err := st.Config(ctr.ImageID)
	if err != nil {
		return nil, err
	}
	cfg := imgCfg.Config
	args := run.Args(&cfg, run.Options{Cmd: ctr.Config.Cmd, Entrypoint: ctr.Config.Entrypoint})
	files := run.ContainerFiles(st, ctr)
	logPath, _ := run.LogPath(st, ctr)
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return time.Time{}.Format(time.RFC3339Nano)
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	d := &containerInspect{
		ID: ctr.ID, Created: stamp(ctr.Created), Image: "sha256:" + ctr.ImageID,
		Name: "/" + ctr.Name, Driver: st.Driver(), Platform: "linux",
		ResolvConfPath: files.ResolvConf, HostnamePath: files.Hostname,
		HostsPath: files.Hosts, LogPath: logPath, Mounts: []any{},
		NetworkSettings: map[string]any{
			"Networks": run.EndpointDocs(st, ctr, state),
			"Ports":    portsDoc(state.Ports), "IPAddress": state.IPAddress,
		},
		State: containerStateJ{
			Status: string(state.Status), Running: state.Status == storage.StatusRunning, Pid: state.Pid,
			Restarting: state.Restarting, Health: state.Health,
			ExitCode: state.ExitCode, Error: state.Error, StartedAt: stamp(state.StartedAt), FinishedAt: stamp(state.FinishedAt),
		},
	}
	if !d.State.Running {
		d.State.Pid = 0
	}
	if len(args) > 0 {
		d.Path, d.Args = args[0], args[1:]
	}
	if d.Args == nil {
		d.Args = []string{}
	}
	cc := ctr.Config
	d.HostConfig = hostConfig{NetworkMode: cc.NetworkMode, AutoRemove: cc.AutoRemove, Privileged: cc.Privileged,
		ReadonlyRootfs: cc.ReadOnly, CapAdd: cc.CapAdd, CapDrop: cc.CapDrop, ExtraHosts: cc.AddHosts}
	d.RestartCount = state.RestartCount
	if d.State.Restarting {
		d.State.Status = string(storage.StatusRestarting)
	}
	d.HostConfig.RestartPolicy.Name = cc.Restart
	d.HostConfig.RestartPolicy.MaximumRetryCount = cc.RestartMax
	if cc.Restart == "" {
		d.HostConfig.RestartPolicy.Name = "no"
	}
	cfg = run.ContainerConfig(&cfg, ctr)
	d.Config = dockerConfig(&cfg, st.ConfigExtra(ctr.ImageID))
	return d, nil
}
