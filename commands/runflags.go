package commands

import (
	"errors"

	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/urfave/cli/v2"
)

// lifecycleFlags are run/create's flags for stopping, restarting, health,
// limits and logs.
func lifecycleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "stop-signal", Usage: "signal to stop the container"},
		&cli.IntFlag{Name: "stop-timeout", Value: -1, Usage: "timeout (in seconds) to stop a container"},
		&cli.StringSliceFlag{Name: "ulimit", Usage: "ulimit options (e.g. nofile=1024:2048)"},
		&cli.BoolFlag{Name: "init", Usage: "run an init inside the container that forwards signals and reaps processes"},
		&cli.StringFlag{Name: "restart", Value: "no", Usage: "restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)"},
		&cli.StringFlag{Name: "health-cmd", Usage: "command to run to check health"},
		&cli.DurationFlag{Name: "health-interval", Usage: "time between running the check (ms|s|m|h)"},
		&cli.IntFlag{Name: "health-retries", Usage: "consecutive failures needed to report unhealthy"},
		&cli.DurationFlag{Name: "health-timeout", Usage: "maximum time to allow one check to run (ms|s|m|h)"},
		&cli.DurationFlag{Name: "health-start-period", Usage: "start period for the container to initialize before starting health-retries countdown"},
		&cli.DurationFlag{Name: "health-start-interval", Usage: "time between running the check during the start period"},
		&cli.BoolFlag{Name: "no-healthcheck", Usage: "disable any container-specified HEALTHCHECK"},
		&cli.StringFlag{Name: "log-driver", Value: "json-file", Usage: "logging driver for the container (json-file)"},
		&cli.StringSliceFlag{Name: "log-opt", Usage: "log driver options (max-size, max-file)"},
		&cli.BoolFlag{Name: "sig-proxy", Value: true, Usage: "proxy received signals to the process"},
		&cli.StringFlag{Name: "detach-keys", Usage: "override the key sequence for detaching a container (accepted; detaching is not supported yet)"},
	}
}

// applyLifecycleFlags fills the stop, restart, health, limit and log
// settings of cfg from the flags and the image.
func applyLifecycleFlags(c *cli.Context, cfg *storage.ContainerConfig, img *v1.Config, extra storage.ConfigExtra) error {
	if s := c.String("stop-signal"); s != "" {
		if _, err := run.ParseSignal(s); err != nil {
			return err
		}
		cfg.StopSignal = s
	}
	if t := c.Int("stop-timeout"); t >= 0 {
		cfg.StopTimeout = &t
	}
	for _, u := range c.StringSlice("ulimit") {
		if _, err := run.ParseUlimit(u); err != nil {
			return err
		}
		cfg.Ulimits = append(cfg.Ulimits, u)
	}
	cfg.Init = c.Bool("init")
	policy, max, err := run.ParseRestart(c.String("restart"))
	if err != nil {
		return err
	}
	if policy != "no" && cfg.AutoRemove {
		return errors.New("conflicting options: cannot specify both --restart and --rm")
	}
	cfg.Restart, cfg.RestartMax = policy, max
	if cfg.LogMaxSize, cfg.LogMaxFile, err = run.ParseLogOptions(c.String("log-driver"), c.StringSlice("log-opt")); err != nil {
		return err
	}
	return healthFromFlags(c, cfg, img, extra)
}

// healthFromFlags sets the health check: the image's HEALTHCHECK with the
// --health-* flags over it, or none with --no-healthcheck.
func healthFromFlags(c *cli.Context, cfg *storage.ContainerConfig, img *v1.Config, extra storage.ConfigExtra) error {
	if c.Bool("no-healthcheck") {
		if c.IsSet("health-cmd") {
			return errors.New("--no-healthcheck conflicts with --health-* options")
		}
		return nil
	}
	h := run.ImageHealthCheck(img, extra)
	if cmd := c.String("health-cmd"); cmd != "" {
		h.Test = []string{"CMD-SHELL", cmd}
	}
	if d := c.Duration("health-interval"); d > 0 {
		h.Interval = d
	}
	if d := c.Duration("health-timeout"); d > 0 {
		h.Timeout = d
	}
	if d := c.Duration("health-start-period"); d > 0 {
		h.StartPeriod = d
	}
	if d := c.Duration("health-start-interval"); d > 0 {
		h.StartInterval = d
	}
	if n := c.Int("health-retries"); n > 0 {
		h.Retries = n
	}
	if len(h.Test) > 0 {
		cfg.Health = h
	}
	return nil
}
