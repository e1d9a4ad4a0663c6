package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/burrow-oci/burrow/config"
	"github.com/burrow-oci/burrow/storage"
	"github.com/burrow-oci/burrow/storage/reference"
	"github.com/burrow-oci/burrow/storage/transport"
	"github.com/burrow-oci/burrow/storage/transport/registry"
	"github.com/urfave/cli/v2"
)

func newPullCommand() *cli.Command {
	return &cli.Command{
		Name:      "pull",
		Usage:     "Download an image from a registry",
		ArgsUsage: "NAME[:TAG|@DIGEST]",
		Description: "Short names are Docker Hub's (busybox is docker.io/library/busybox:latest), unless\n" +
			"config.toml's [registries] unqualified-search-registries lists registries to try in order;\n" +
			"config.toml's [[registries.registry]] relocates names and adds mirrors.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "all-tags", Aliases: []string{"a"}, Usage: "download all tagged images in the repository"},
			&cli.StringFlag{Name: "platform", Usage: "set platform if server is multi-platform capable (os/arch[/variant])"},
			&cli.BoolFlag{Name: "tls-verify", Value: true, Usage: "require HTTPS and verify certificates"},
			quietFlag("suppress verbose output"),
		},
		Action: runPull,
	}
}

func runPull(c *cli.Context) error {
	if err := checkArgs(c, 1, 1); err != nil {
		return err
	}
	ref := c.Args().First()
	if _, err := reference.Normalize(ref); err != nil {
		return toolError(err)
	}
	if c.Bool("all-tags") && strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
		return toolError(fmt.Errorf("tag can't be used with --all-tags/-a"))
	}
	return withStoreWrite(c, func(s *session, st *storage.Store) error {
		ropts := registryOptions(s.cfg, c)
		refs := []string{ref}
		if c.Bool("all-tags") {
			repo, tags, err := registry.ListTags(c.Context, ref, ropts)
			if err != nil {
				return err
			}
			refs = refs[:0]
			for _, t := range tags {
				refs = append(refs, repo+":"+t)
			}
		}
		for _, r := range refs {
			if _, err := pullImage(c.Context, st, r, ropts, pullOutput{platform: c.String("platform"), quiet: c.Bool("quiet"), w: c.App.Writer}); err != nil {
				return err
			}
		}
		return nil
	})
}

// pullOutput says what a pull prints, where, and for which platform.
type pullOutput struct {
	platform string
	quiet    bool // only the name
	implicit bool // a pull for run, create or build
	w        io.Writer
}

// registryOptions turns config.toml's [registries] and the --tls-verify
// flag (where the command has one) into registry options.
func registryOptions(cfg *config.Config, c *cli.Context) registry.Options {
	var o registry.Options
	for _, r := range cfg.Registries.Registry {
		o.Registries = append(o.Registries, registry.Config{Prefix: r.Prefix, Location: r.Location, Insecure: r.Insecure, Mirrors: r.Mirrors})
	}
	o.SearchRegistries = cfg.Registries.UnqualifiedSearch
	if c != nil && c.IsSet("tls-verify") {
		v := c.Bool("tls-verify")
		o.TLSVerify = &v
	}
	o.AuthFile = os.Getenv("REGISTRY_AUTH_FILE")
	return o
}

// pullImage pulls one image and prints what docker pull prints: layer
// lines, the digest, the status and the full name (only the name when
// quiet).
//
// out.implicit marks the pulls of run, create and build, which do not say
// "Using default tag", as Docker's do not.
func pullImage(ctx context.Context, st *storage.Store, ref string, ropts registry.Options, out pullOutput) (*registry.PullResult, error) {
	platform, quiet, implicit, w := out.platform, out.quiet, out.implicit, out.w
	cands, err := registry.Candidates(ropts.SearchRegistries, ref)
	if err != nil {
		return nil, toolError(err)
	}
	var p *transport.Printer
	opts := registry.PullOptions{Options: ropts, Platform: platform, TempDir: st.SpoolDir()}
	if !quiet {
		if !implicit && !strings.ContainsAny(ref[strings.LastIndex(ref, "/")+1:], ":@") {
			fmt.Fprintln(w, "Using default tag: latest")
		}
		p = transport.NewPrinter(w, isTerminal(w))
		opts.Progress = func(ev transport.Progress) { p.Update(ev) }
		opts.Trying = func(full string) {
			if len(cands) > 1 {
				p.Done()
				p = transport.NewPrinter(w, isTerminal(w))
				fmt.Fprintf(w, "Trying to pull %s...\n", full)
			}
			_, tag, dgst := reference.Split(full)
			id := tag
			if dgst != "" {
				id = dgst
			}
			path := strings.TrimPrefix(reference.Repository(full), "docker.io/")
			if i := strings.Index(path, "/"); i >= 0 && strings.ContainsAny(path[:i], ".:") {
				path = path[i+1:]
			}
			fmt.Fprintf(w, "%s: Pulling from %s\n", id, path)
		}
	}
	res, err := registry.Pull(ctx, st, ref, opts)
	if p != nil {
		p.Done()
	}
	if err != nil {
		return nil, err
	}
	repo, tag, dgst := reference.Split(res.Name)
	if quiet {
		fmt.Fprintln(w, res.Name)
		return res, nil
	}
	fmt.Fprintln(w, "Digest: "+res.Digest)
	short := repo
	if tag != "<none>" {
		short += ":" + tag
	}
	if dgst != "" {
		short = repo + "@" + dgst
	}
	if res.Fresh {
		fmt.Fprintln(w, "Status: Downloaded newer image for "+short)
	} else {
		fmt.Fprintln(w, "Status: Image is up to date for "+short)
	}
	fmt.Fprintln(w, res.Name)
	return res, nil
}

// imageForRun finds run's and create's image, pulling it as --pull says
// (registry.Ensure). Pull output goes to stderr, as Docker's does.
func imageForRun(c *cli.Context, s *session, st *storage.Store, ref string) (*storage.Image, error) {
	img, err := registry.Ensure(c.Context, st, ref, s.cfg.Registries.UnqualifiedSearch, c.String("pull"),
		func(ctx context.Context, missing bool) (*storage.Image, error) {
			if missing {
				fmt.Fprintf(c.App.ErrWriter, "Unable to find image '%s' locally\n", reference.Familiar(ref))
			}
			res, err := pullImage(ctx, st, ref, registryOptions(s.cfg, nil), pullOutput{platform: c.String("platform"), implicit: true, w: c.App.ErrWriter})
			if err != nil {
				return nil, err
			}
			return res.Image, nil
		})
	return img, toolError(err)
}

// pullForBuild is build's hook for FROM: it pulls an image the store
// lacks (or every base, with always: build --pull) and prints as docker
// pull does. A short name stored under one of the search registries is
// not missing.
func pullForBuild(s *session, st *storage.Store, w io.Writer, always bool) func(ctx context.Context, ref string) (*storage.Image, error) {
	ropts := registryOptions(s.cfg, nil)
	return func(ctx context.Context, ref string) (*storage.Image, error) {
		img, missing := registry.LookupSearched(st, s.cfg.Registries.UnqualifiedSearch, ref)
		if missing == nil && !always {
			return img, nil
		}
		res, err := pullImage(ctx, st, ref, ropts, pullOutput{implicit: true, w: w})
		if err != nil {
			if missing != nil {
				return nil, fmt.Errorf("base image %q is not in the store, and pulling it failed: %w", ref, err)
			}
			return nil, fmt.Errorf("pulling base image %q: %w", ref, err)
		}
		return res.Image, nil
	}
}
