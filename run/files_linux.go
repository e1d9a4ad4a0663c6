package run

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/burrow-oci/burrow/storage"
	securejoin "github.com/cyphar/filepath-securejoin"
	"github.com/moby/sys/user"
)

// ResolveUser turns a -u / USER value ("name", "uid", "name:group",
// "uid:gid", "" for root) into ids, reading the image's /etc/passwd and
// /etc/group inside rootfs (links are resolved within it).
func ResolveUser(rootfs, spec string) (User, error) {
	passwd, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return User{}, err
	}
	group, err := securejoin.SecureJoin(rootfs, "/etc/group")
	if err != nil {
		return User{}, err
	}
	eu, err := user.GetExecUserPath(spec, &user.ExecUser{Uid: 0, Gid: 0, Home: "/"}, passwd, group)
	if err != nil {
		return User{}, fmt.Errorf("unable to find user %s: %s (hint: use a numeric uid, or a user in the image's /etc/passwd)", spec, strings.TrimPrefix(err.Error(), "unable to find user "+spec+": "))
	}
	u := User{UID: uint32(eu.Uid), GID: uint32(eu.Gid), Home: eu.Home}
	for _, g := range eu.Sgids {
		if uint32(g) != u.GID {
			u.AdditionalGIDs = append(u.AdditionalGIDs, uint32(g))
		}
	}
	return u, nil
}

// ContainerFiles are the paths of the /etc files WriteFiles writes for a
// container (empty when its directory cannot be found).
func ContainerFiles(st *storage.Store, ctr *storage.Container) Files {
	dir, err := st.ContainerDir(ctr)
	if err != nil {
		return Files{}
	}
	return filesIn(dir)
}

func filesIn(dir string) Files {
	return Files{
		Hosts:      filepath.Join(dir, "hosts"),
		Hostname:   filepath.Join(dir, "hostname"),
		ResolvConf: filepath.Join(dir, "resolv.conf"),
	}
}

// etcFiles say what a sandbox's /etc/hosts, /etc/hostname and
// /etc/resolv.conf hold.
type etcFiles struct {
	Hostname string
	Network  string
	// IP is the container's address on its network ("" without one: the
	// hostname then names 127.0.1.1).
	IP string
	// Gateway is what --add-host's host-gateway stands for ("" for the
	// host's loopback).
	Gateway    string
	ExtraHosts []string
	// Nameservers replace the host's resolvers (--dns, or the user-mode
	// network's DNS forwarder); Search and Options are --dns-search and
	// --dns-option, added to the host's.
	Nameservers     []string
	Search, Options []string
}

// writeFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into dir, as Docker generates them.
func writeFiles(dir string, c etcFiles) (Files, error) {
	f := filesIn(dir)
	var hosts strings.Builder
	if c.Network == NetworkHost {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts.Write(data)
		}
	} else {
		hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
		ip := c.IP
		if ip == "" {
			ip = "127.0.1.1"
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", ip, c.Hostname)
	}
	for _, h := range c.ExtraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			return Files{}, fmt.Errorf("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q (hint: use host:ip)", h, h)
		}
		if ip == "host-gateway" {
			ip = c.Gateway
			if ip == "" {
				ip = "127.0.0.1"
			}
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", ip, name)
	}
	var resolv []byte
	if c.Network != NetworkNone || len(c.Nameservers) > 0 {
		host, _ := os.ReadFile("/etc/resolv.conf")
		resolv = resolvConf(host, c.Nameservers, c.Search, c.Options)
	}
	for _, w := range []struct {
		path string
		data []byte
	}{{f.Hosts, []byte(hosts.String())}, {f.Hostname, []byte(c.Hostname + "\n")}, {f.ResolvConf, resolv}} {
		if err := os.WriteFile(w.path, w.data, 0o644); err != nil {
			return Files{}, fmt.Errorf("writing %s: %w", w.path, err)
		}
	}
	return f, nil
}

// resolvConf is the host's resolv.conf with its nameservers, search and
// options lines replaced by servers, search and options where given (as
// Docker does); without any change it is the host's as it is.
func resolvConf(host []byte, servers, search, options []string) []byte {
	if len(servers)+len(search)+len(options) == 0 {
		return host
	}
	var out strings.Builder
	for _, line := range strings.Split(string(host), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "nameserver" && len(servers) > 0:
		case len(f) > 0 && f[0] == "search" && len(search) > 0:
		case len(f) > 0 && f[0] == "options" && len(options) > 0:
		case line == "":
		default:
			out.WriteString(line + "\n")
		}
	}
	for _, s := range servers {
		out.WriteString("nameserver " + s + "\n")
	}
	if len(search) > 0 {
		out.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	if len(options) > 0 {
		out.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return []byte(out.String())
}
