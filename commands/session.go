package commands

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/burrow-oci/burrow/config"
	"github.com/burrow-oci/burrow/internal/userns"
	"github.com/burrow-oci/burrow/run"
	"github.com/burrow-oci/burrow/storage"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli/v2"
)

// session is what a command needs beyond its flags: the configuration with
// the global flags applied, the id-mapping plan, and a logger.
type session struct {
	cfg  *config.Config
	plan userns.Plan
	log  *slog.Logger
	errw io.Writer
	join string // the container whose network run joins (its user namespace too)
}

// newSession loads the configuration and applies the global flags. It does
// not touch the store.
func newSession(c *cli.Context) (*session, error) {
	cfg, err := config.Load(processEnv())
	if err != nil {
		return nil, toolError(err)
	}
	root := c.String("root")
	if root != "" {
		cfg.Storage.Root = root
	}
	if v := c.String("runroot"); v != "" {
		cfg.Storage.RunRoot = v
	} else if root != "" && cfg.Storage.RunRootIsDefault {
		// A store chosen on the command line gets run state of its own, so
		// that two stores never share mount state.
		cfg.Storage.RunRoot = filepath.Join(cfg.Storage.RunRoot, "root-"+shortHash(root))
	}
	if v := c.String("storage-driver"); v != "" {
		cfg.Storage.Driver = v
	}
	if v := c.String("log-level"); v != "" {
		cfg.LogLevel = v
	}
	if c.Bool("debug") {
		cfg.LogLevel = "debug"
	}
	if err := cfg.Validate(); err != nil {
		return nil, toolError(err)
	}
	s := &session{cfg: cfg, errw: c.App.ErrWriter, join: run.NetworkContainer(c.String("network"))}
	s.log = newLogger(c.App.ErrWriter, cfg.LogLevel)
	return s, nil
}

// processEnv is the configuration's view of this process: the caller's
// host uid comes from the user namespace's record, since inside it the
// process is root.
func processEnv() config.Env { return config.ProcessEnv(userns.HostUID()) }

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	switch level {
	case "debug":
		l = slog.LevelDebug
		logrus.SetLevel(logrus.DebugLevel)
	case "info":
		l = slog.LevelInfo
		logrus.SetLevel(logrus.InfoLevel)
	case "error":
		l = slog.LevelError
		logrus.SetLevel(logrus.ErrorLevel)
	default:
		// The libraries' warnings (cgroup counters that rootless mode
		// cannot read, and the like) are noise at the default level, and
		// so are their error lines: the errors they return reach the user
		// once, as burrow's one line (containers/storage logs "While
		// applying layer: ..." on top of the error it returns).
		l = slog.LevelWarn
		logrus.SetLevel(logrus.FatalLevel)
	}
	logrus.SetOutput(w)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// enterUserNS makes sure the process is in its user namespace. The C
// constructor normally entered it before main; otherwise this re-executes
// the binary (on success the new process runs the command from the start).
func (s *session) enterUserNS() error {
	if err := userns.Enter(s.join); err != nil {
		return toolError(err)
	}
	plan, _ := userns.Current()
	s.plan = plan
	// The constructor read the userns key with a small scanner; make sure
	// the full parse agrees.
	want := userns.Mode(s.cfg.UserNS)
	if plan.Mode != userns.ModeHost && !plan.Light && want != userns.ModeAuto && want != plan.Mode {
		return toolError(fmt.Errorf("internal error: config asks for userns %q but the namespace was entered in %s mode (hint: set BURROW_USERNS=%s)", want, plan.Mode, want))
	}
	return nil
}

// openStore enters the user namespace and opens the store with o (its
// paths and id mode filled in from the session). The caller must close it.
func (s *session) openStore(ctx context.Context, o storage.Options) (*storage.Store, error) {
	if err := s.enterUserNS(); err != nil {
		return nil, err
	}
	o.Root, o.RunRoot, o.Driver = s.cfg.Storage.Root, s.cfg.Storage.RunRoot, s.cfg.Storage.Driver
	o.IgnoreOwners, o.Log = s.plan.Mode == userns.ModeSingle, s.log
	o.TmpSpoolDir = storage.TmpSpoolDir(os.Getenv("TMPDIR"), processEnv().UID)
	o.FeatureCache = config.FeatureCacheDir(processEnv())
	st, err := storage.Open(ctx, o)
	if err != nil {
		return nil, toolError(err)
	}
	notices := st.Notices
	if s.plan.Mode == userns.ModeSingle && !s.plan.Light {
		why := s.plan.Fallback
		if why == "" {
			why = "userns = \"single\" in config"
		}
		notices = append(notices, fmt.Sprintf("single-id mode: %s, so files of other owners are stored as yours (hint: an admin enables full mapping with `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 %s`)", why, s.plan.User))
	}
	for _, n := range notices {
		if st.NoticeOnce(n) {
			fmt.Fprintln(s.errw, "burrow: "+n)
		}
	}
	return st, nil
}

// withStore runs fn with a store opened for reading and closes it, keeping
// the first error.
func withStore(c *cli.Context, fn func(s *session, st *storage.Store) error) error {
	return runWithStore(c, false, fn)
}

// withStoreWrite is withStore for commands that change the store: they run
// one at a time.
func withStoreWrite(c *cli.Context, fn func(s *session, st *storage.Store) error) error {
	return runWithStore(c, true, fn)
}

// withVolumes is withStore for commands that only read volumes.
func withVolumes(c *cli.Context, fn func(s *session, st *storage.Store) error) error {
	return runWithStoreOpts(c, storage.Options{VolumesOnly: true}, fn)
}

func runWithStore(c *cli.Context, write bool, fn func(s *session, st *storage.Store) error) error {
	return runWithStoreOpts(c, storage.Options{Write: write}, fn)
}

func runWithStoreOpts(c *cli.Context, o storage.Options, fn func(s *session, st *storage.Store) error) error {
	s, err := newSession(c)
	if err != nil {
		return err
	}
	st, err := s.openStore(c.Context, o)
	if err != nil {
		return err
	}
	err = fn(s, st)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return err
}

func shortHash(s string) string {
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%08x", h.Sum32())
}

// confirmInNamespace asks a yes/no question once the process is in its user
// namespace (so that a re-execution does not ask it twice) and before the
// store is opened (so that no lock is held while the user thinks).
func confirmInNamespace(c *cli.Context, question string) (bool, error) {
	s, err := newSession(c)
	if err != nil {
		return false, err
	}
	if err := s.enterUserNS(); err != nil {
		return false, err
	}
	return confirm(c.App.Reader, c.App.Writer, question)
}

// networkSettings are config.toml's [network] choices for run, with the
// notice of a network without outbound access going to stderr (at each
// run, as Docker's warnings: the container at hand lacks it).
func (s *session) networkSettings() run.NetworkSettings {
	return run.NetworkSettings{
		HostFallback: s.cfg.Network.Fallback == "host",
		HostLoopback: s.cfg.Network.HostLoopback,
		Log:          s.log,
		Notice:       func(n string) { fmt.Fprintln(s.errw, "burrow: "+n) },
	}
}
