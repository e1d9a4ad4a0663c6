package config

import (
	"os"
	"syscall"
)

func ownedBy(fi os.FileInfo, uid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if int(st.Uid) == uid {
		return true
	}
	// Inside burrow's user namespace the user's files appear owned by root.
	return st.Uid == 0 && os.Getuid() == 0 && uid != 0
}
