package run

// The emulated identity of a process in single-id mode and the kernel's
// rules for changing it (the supervisor that answers the calls is in
// idemu_linux.go).

import (
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// identityAnnotation records in a single-id spec the user the container's
// processes start as (uid:gid:g1,g2), since the spec's own user is 0.
const identityAnnotation = "org.burrow.identity"

// identityCalls are the calls the supervisor answers.
var identityCalls = []string{
	"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid",
	"setgroups", "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups",
}

// cred is a process's emulated identity.
type cred struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32
}

func newCred(uid, gid uint32, groups []uint32) *cred {
	return &cred{uid, uid, uid, uid, gid, gid, gid, gid, append([]uint32(nil), groups...)}
}

func (c *cred) clone() *cred {
	n := *c
	n.groups = append([]uint32(nil), c.groups...)
	return &n
}

// identityOf reads the identity annotation of a spec (root without one).
func identityOf(s *specs.Spec) *cred {
	v := s.Annotations[identityAnnotation]
	ids := strings.SplitN(v, ":", 3)
	num := func(i int) uint32 {
		if i >= len(ids) {
			return 0
		}
		n, _ := strconv.ParseUint(ids[i], 10, 32)
		return uint32(n)
	}
	var groups []uint32
	if len(ids) == 3 && ids[2] != "" {
		for _, g := range strings.Split(ids[2], ",") {
			if n, err := strconv.ParseUint(g, 10, 32); err == nil {
				groups = append(groups, uint32(n))
			}
		}
	}
	return newCred(num(0), num(1), groups)
}

// identityText is the annotation's value for a user.
func identityText(uid, gid uint32, groups []uint32) string {
	var b strings.Builder
	b.WriteString(strconv.FormatUint(uint64(uid), 10) + ":" + strconv.FormatUint(uint64(gid), 10) + ":")
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(g), 10))
	}
	return b.String()
}

// ids is the set of ids setuid-like calls change: the user's or the
// group's.
func ids(c *cred, user bool) (r, e, s, fs *uint32) {
	if user {
		return &c.ruid, &c.euid, &c.suid, &c.fsuid
	}
	return &c.rgid, &c.egid, &c.sgid, &c.fsgid
}

func setOne(c *cred, user bool, id uint32, priv bool) (int64, int32) {
	if id == noID {
		return 0, int32(unix.EINVAL)
	}
	r, e, s, fs := ids(c, user)
	switch {
	case priv:
		*r, *e, *s, *fs = id, id, id, id
	case id == *r || id == *s:
		*e, *fs = id, id
	default:
		return 0, int32(unix.EPERM)
	}
	return 0, 0
}

func setRE(c *cred, user bool, nr, ne uint32, priv bool) (int64, int32) {
	r, e, s, fs := ids(c, user)
	or, oe, os := *r, *e, *s
	if nr != noID && !priv && nr != or && nr != oe {
		return 0, int32(unix.EPERM)
	}
	if ne != noID && !priv && ne != or && ne != oe && ne != os {
		return 0, int32(unix.EPERM)
	}
	if nr != noID {
		*r = nr
	}
	if ne != noID {
		*e = ne
	}
	if nr != noID || ne != noID && ne != or {
		*s = *e
	}
	*fs = *e
	return 0, 0
}

func setRES(c *cred, user bool, n [3]uint32, priv bool) (int64, int32) {
	r, e, s, fs := ids(c, user)
	if !priv {
		for _, v := range n {
			if v != noID && v != *r && v != *e && v != *s {
				return 0, int32(unix.EPERM)
			}
		}
	}
	for i, p := range []*uint32{r, e, s} {
		if n[i] != noID {
			*p = n[i]
		}
	}
	*fs = *e
	return 0, 0
}

func setFS(c *cred, user bool, id uint32, priv bool) int64 {
	r, e, s, fs := ids(c, user)
	old := *fs
	if id != noID && (priv || id == *r || id == *e || id == *s || id == *fs) {
		*fs = id
	}
	return int64(old)
}
