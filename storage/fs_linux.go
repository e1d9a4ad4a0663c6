package storage

import (
	"fmt"
	"syscall"
)

// networkFilesystems are filesystems that cannot hold a rootless store:
// they refuse the owners and extended attributes that layers need, and
// overlay cannot use them as a lower or upper directory.
var networkFilesystems = map[int64]string{
	0x6969:     "nfs",
	0x517b:     "smb",
	0xff534d42: "cifs",
	0xfe534d42: "smb2",
	0x0bd00bd0: "lustre",
	0x47504653: "gpfs",
	0x00c36400: "ceph",
	0x5346414f: "afs",
	0x19830326: "beegfs",
	0x65735546: "fuse",
}

// checkFilesystem refuses a store on a network filesystem with a message
// that names the path and the fix.
func checkFilesystem(dir string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return fmt.Errorf("checking the filesystem of %s: %w", dir, err)
	}
	if name, bad := networkFilesystems[int64(uint32(st.Type))]; bad {
		return fmt.Errorf("%w: storage root %s is on %s, which cannot hold container layers (hint: use local disk, e.g. --root /tmp/$USER/burrow, or storage.root in ~/.config/burrow/config.toml)", ErrUnsupportedFS, dir, name)
	}
	return nil
}

// FilesystemName names the filesystem that holds dir ("ext4", "xfs", ...),
// for `burrow info`.
func FilesystemName(dir string) string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return "unknown"
	}
	names := map[int64]string{
		0xef53: "ext4", 0x58465342: "xfs", 0x9123683e: "btrfs", 0x01021994: "tmpfs",
		0x794c7630: "overlay", 0x2fc12fc1: "zfs", 0xf2f52010: "f2fs",
	}
	if n, ok := names[int64(uint32(st.Type))]; ok {
		return n
	}
	if n, ok := networkFilesystems[int64(uint32(st.Type))]; ok {
		return n
	}
	return fmt.Sprintf("0x%x", uint32(st.Type))
}
