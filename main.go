// Command burrow builds and runs OCI containers as an ordinary user, with
// no daemon. Its command line speaks Docker's dialect.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/burrow-oci/burrow/commands"
	"github.com/burrow-oci/burrow/internal/userns"
	"github.com/burrow-oci/burrow/run"
	"go.podman.io/storage/pkg/reexec"
)

// Set with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "0.1.0-dev"
	commit  = ""
)

func main() {
	// Re-execution entry points come first: a container's init process
	// (libcontainer), then the user-namespace one, which ran
	// before the Go runtime (a C constructor); here we learn how it went.
	if run.IsInit() {
		run.Init()
	}
	if err := userns.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "Error: "+err.Error()+userns.Hint(err))
		os.Exit(commands.ExitTool)
	}
	// containers/storage unpacks layers in a re-executed, chrooted child.
	if reexec.Init() {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := commands.Run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, commands.Version{Version: version, Commit: commit})
	interrupted := ctx.Err() != nil
	stop()
	if err != nil && interrupted && commands.Message(err) != "" {
		// What was under way was undone; say so as a shell would count it.
		fmt.Fprintln(os.Stderr, "Error: interrupted: "+err.Error())
		os.Exit(130)
	}
	if err != nil {
		if msg := commands.Message(err); msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
	}
	os.Exit(commands.ExitCodeOf(err))
}
