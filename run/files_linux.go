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

// writeFiles writes the container's /etc/hosts, /etc/hostname and
// /etc/resolv.conf into dir, as Docker generates them.
func writeFiles(dir, hostname, network string, extraHosts []string) (Files, error) {
	f := filesIn(dir)
	var hosts strings.Builder
	if network == NetworkHost {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts.Write(data)
		}
	} else {
		hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
		fmt.Fprintf(&hosts, "127.0.1.1\t%s\n", hostname)
	}
	for _, h := range extraHosts {
		name, ip, ok := strings.Cut(h, ":")
		if !ok {
			return Files{}, fmt.Errorf("invalid argument %q for \"--add-host\" flag: bad format for add-host: %q (hint: use host:ip)", h, h)
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", ip, name)
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil || network == NetworkNone {
		resolv = nil
	}
	for _, w := range []struct {
		path string
		data []byte
	}{{f.Hosts, []byte(hosts.String())}, {f.Hostname, []byte(hostname + "\n")}, {f.ResolvConf, resolv}} {
		if err := os.WriteFile(w.path, w.data, 0o644); err != nil {
			return Files{}, fmt.Errorf("writing %s: %w", w.path, err)
		}
	}
	return f, nil
}
