#!/bin/bash
# Runs the integration tests in tests/ against the real bin/burrow as
# unprivileged users: once as a user with subordinate id ranges (full
# mapping) and once as a user without any (single-id mode), then as root.
# Run as root, it creates both users; run as a user, it runs the tests once
# as that user.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-$(command -v go || echo /usr/local/go/bin/go)}
FULL_USER=${BURROW_TEST_FULL_USER:-burrowfull}
SOLO_USER=${BURROW_TEST_SOLO_USER:-burrowsolo}
# -run and other go test flags can be passed through TESTFLAGS.
TESTFLAGS=${TESTFLAGS:-}

# Static (no cgo), so that tests can mount it into a container as a helper
# (see udpWho).
CGO_ENABLED=0 "$GO" test -c -o bin/integration.test ./tests

log=$(mktemp /tmp/burrow-tests-log.XXXXXX)
# summary: the closing line CI reads, counted over every run (top-level tests).
summary() {
  printf 'integration: %d passed, %d failed, %d skipped\n' \
    "$(grep -c '^--- PASS' "$log")" "$(grep -c '^--- FAIL' "$log")" "$(grep -c '^--- SKIP' "$log")"
  rm -f "$log"
}

if [ "$(id -u)" != 0 ]; then
  status=0
  # shellcheck disable=SC2086
  bin/integration.test -test.v -test.count=1 -burrow "$PWD/bin/burrow" $TESTFLAGS 2>&1 | tee -a "$log" || status=1
  summary
  exit $status
fi

# The checkout may sit where the test users cannot read (e.g. under /root):
# run copies from a directory they can.
work=$(mktemp -d /tmp/burrow-tests.XXXXXX)
# /dev/net/tun: the tests' containers need it usable for their eth0 and
# outbound access (issue 14). Make it 0666 for the runs and restore its
# mode at exit; BURROW_TEST_TUN tells the tests which it is.
tun_mode=
tun=unusable
if [ -c /dev/net/tun ]; then
  tun_mode=$(stat -c %a /dev/net/tun)
  chmod 0666 /dev/net/tun && tun=usable
fi
restore_tun() { [ -z "$tun_mode" ] || chmod "$tun_mode" /dev/net/tun; }
trap 'restore_tun; umount "$work/small" 2>/dev/null; rm -rf "$work" "$log"' EXIT
cp bin/burrow bin/integration.test "$work/"
chmod 755 "$work" "$work/burrow" "$work/integration.test"
# A small file system for the tests that fill a disk (TestPullDiskFull).
smallfs=
mkdir "$work/small"
if mount -t tmpfs -o size=24m,mode=1777 burrow-test-small "$work/small"; then
  smallfs=$work/small
else
  echo "run.sh: cannot mount a small tmpfs; the disk-full tests will be skipped" >&2
fi

ensure_user() {  # NAME WANT_SUBIDS(yes|no)
  local name=$1 want=$2
  id "$name" >/dev/null 2>&1 || useradd -m -s /bin/bash "$name"
  for f in /etc/subuid /etc/subgid; do
    touch "$f"
    if [ "$want" = yes ]; then
      if ! grep -q "^$name:" "$f"; then
        start=$(awk -F: '{e=$2+$3; if (e>m) m=e} END {print (m>200000 ? m : 200000)}' "$f")
        echo "$name:$start:65536" >> "$f"
      fi
    else
      sed -i "/^$name:/d" "$f"
    fi
  done
}
ensure_user "$FULL_USER" yes
ensure_user "$SOLO_USER" no
# newuidmap/newgidmap must be setuid (Debian's uidmap package ships them so).
for b in /usr/bin/newuidmap /usr/bin/newgidmap; do
  [ -u "$b" ] || getcap "$b" 2>/dev/null | grep -q cap_set || chmod u+s "$b"
done

status=0
for pair in "$FULL_USER:full" "$SOLO_USER:single"; do
  user=${pair%%:*} mode=${pair##*:}
  home=$(getent passwd "$user" | cut -d: -f6)
  echo "=== integration tests as $user (userns mode $mode)"
  # shellcheck disable=SC2086
  (cd "$work" && runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
      BURROW_TEST_MODE="$mode" BURROW_TEST_SMALLFS="$smallfs" BURROW_TEST_TUN="$tun" ./integration.test -test.v -test.count=1 -burrow "$work/burrow" $TESTFLAGS) 2>&1 \
    | tee -a "$log" || status=1
done
# The loopback fallback for users who cannot use /dev/net/tun: with the
# device 0600 (root's), run TestNetworkTunUnusable as both users again,
# unless TESTFLAGS chose tests that leave it out.
fallback_test=TestNetworkTunUnusable
run_fallback=yes
if [[ " $TESTFLAGS" =~ [[:space:]]-(test\.)?run[=[:space:]]+([^[:space:]]+) ]]; then
  pattern=${BASH_REMATCH[2]} pattern=${pattern%\'} pattern=${pattern#\'} pattern=${pattern%\"} pattern=${pattern#\"}
  echo "$fallback_test" | grep -qE -- "${pattern%%/*}" || run_fallback=no
fi
if [ "$tun" = usable ] && [ "$run_fallback" = yes ]; then
  chmod 0600 /dev/net/tun
  for pair in "$FULL_USER:full" "$SOLO_USER:single"; do
    user=${pair%%:*} mode=${pair##*:}
    home=$(getent passwd "$user" | cut -d: -f6)
    echo "=== $fallback_test as $user (userns mode $mode) with /dev/net/tun 0600"
    # shellcheck disable=SC2086
    (cd "$work" && runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
        BURROW_TEST_MODE="$mode" BURROW_TEST_SMALLFS="$smallfs" BURROW_TEST_TUN=unusable ./integration.test -test.v -test.count=1 -burrow "$work/burrow" $TESTFLAGS -test.run "^$fallback_test\$") 2>&1 \
      | tee -a "$log" || status=1
  done
  chmod 0666 /dev/net/tun
fi
# burrow works as root too (no user namespace; the store's default moves
# to /var/lib/burrow, but each test has its own).
echo "=== integration tests as root (no user namespace)"
(cd "$work" && env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root USER=root \
    BURROW_TEST_MODE=host BURROW_TEST_SMALLFS="$smallfs" BURROW_TEST_TUN="$tun" ./integration.test -test.v -test.count=1 -burrow "$work/burrow" $TESTFLAGS) 2>&1 \
  | tee -a "$log" || status=1
summary
exit $status
