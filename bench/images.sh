#!/bin/bash
# bench/images.sh: how long `burrow images` takes with 20 images, next to
# `podman images` with 20 images, measured side by side in one hyperfine run.
# Goal (the issue): burrow's median is under a tenth of podman's.
#
# Usage (root or the bench user):
#   bash bench/images.sh                  # or: make bench
#   RUNS=30 WARMUP=5 bash bench/images.sh
#   BREAKDOWN=1 bash bench/images.sh      # also the figures that split burrow's time
#
# Run as root, it re-runs itself as BENCH_USER (default builder) with runuser,
# copying the binary (and this script) to a temporary directory first if that
# user cannot reach them. Nothing outside its temporary directory is touched:
# the fixture (a busybox rootfs tarball made from the host's busybox-static)
# and both stores (burrow's and podman's, 20 images each) are made there and
# removed at exit, also on failure or Ctrl-C. podman's per-user configuration
# is used as it is; only its store is a throw-away one (--root/--runroot).
#
# Output (stdout), one line per figure; hyperfine's own report goes to stderr:
#   g1 images_20 burrow median=…s mean=…s sd=…s min=…s max=…s n=…
#   g1 images_20 podman median=…s mean=…s sd=…s min=…s max=…s n=…
#   g1 images_20 ratio burrow/podman median=… mean=… (goal < 0.1: met|NOT met)
#   g1 images_20_q burrow …          (`burrow images -q`)
#   g1 version burrow …              (`burrow version`: process start, no namespace, no store)
#
# Env:
#   BURROW      burrow binary (default: bin/burrow of this checkout; build it with `make build`)
#   PODMAN      podman binary (default: podman from PATH; PODMAN=none skips podman)
#   BENCH_USER  unprivileged user the bench runs as when started by root (default builder)
#   RUNS        timed runs per command (default 20)
#   WARMUP      untimed runs per command before timing (default 3)
#   ROUNDS      1 (default): one hyperfine invocation with every command (hyperfine runs
#               the commands one after the other). N > 1: N invocations, RUNS/N runs each,
#               the command order reversed every other round, times pooled: podman and
#               burrow then share any drift of a machine that has other work.
#   N_IMAGES    images per store (default 20)
#   BREAKDOWN   1: also time the pieces of `burrow images` (see the end of this file)
#   WAIT_QUIET  1 (default): before timing, wait (at most QUIET_MAX s, default 60) until the
#               machine's CPU busy % is at most QUIET_PCT (default 10); 0: do not wait
#   BUSYBOX     static busybox for the fixture (default /bin/busybox, package busybox-static)
#   BENCH_TMP   where the temporary directory goes (default ${TMPDIR:-/tmp})
#   JSON        if set, the pooled times ({"command name": [seconds, ...]}) are copied to
#               this path prefix (writable by the bench user): $JSON-main.json, $JSON-breakdown.json
set -euo pipefail

SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname "$SCRIPT")
BENCH_USER=${BENCH_USER:-builder}
BURROW=${BURROW:-$SCRIPT_DIR/../bin/burrow}
PODMAN=${PODMAN:-podman}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-1}
N_IMAGES=${N_IMAGES:-20}
BREAKDOWN=${BREAKDOWN:-0}
WAIT_QUIET=${WAIT_QUIET:-1}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_MAX=${QUIET_MAX:-60}
BUSYBOX=${BUSYBOX:-/bin/busybox}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
JSON=${JSON:-}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

[ -x "$BURROW" ] || die "no executable burrow at $BURROW (hint: run \`make build\` first, or set BURROW=/path/to/burrow)"
BURROW=$(readlink -f "$BURROW")

# ---------------------------------------------------------------- root: re-run as BENCH_USER
if [ "$(id -u)" = 0 ] && [ "$(id -un)" != "$BENCH_USER" ]; then
  id "$BENCH_USER" >/dev/null 2>&1 || die "no user $BENCH_USER (hint: set BENCH_USER to an unprivileged user with /etc/subuid and /etc/subgid ranges)"
  as_user() { (cd / && runuser -u "$BENCH_USER" -- "$@"); }
  copy_dir=""
  trap '[ -z "$copy_dir" ] || rm -rf "$copy_dir"' EXIT
  bin=$BURROW script=$SCRIPT
  if ! as_user test -x "$BURROW" || ! as_user test -r "$SCRIPT"; then
    copy_dir=$(mktemp -d "$BENCH_TMP/burrow-bench-bin.XXXXXX")
    chmod 755 "$copy_dir"
    install -m 0755 "$BURROW" "$copy_dir/burrow"
    install -m 0644 "$SCRIPT" "$copy_dir/images.sh"
    bin=$copy_dir/burrow script=$copy_dir/images.sh
    log "copied burrow and this script to $copy_dir (not reachable by $BENCH_USER where they are)"
  fi
  uid=$(id -u "$BENCH_USER")
  envs=(BENCH_USER="$BENCH_USER" BURROW="$bin" PODMAN="$PODMAN" RUNS="$RUNS" WARMUP="$WARMUP"
        ROUNDS="$ROUNDS" N_IMAGES="$N_IMAGES" BREAKDOWN="$BREAKDOWN" BUSYBOX="$BUSYBOX"
        WAIT_QUIET="$WAIT_QUIET" QUIET_PCT="$QUIET_PCT" QUIET_MAX="$QUIET_MAX"
        BENCH_TMP="$BENCH_TMP" JSON="$JSON")
  # root's XDG_RUNTIME_DIR (if any) must not leak into the user's podman.
  if [ -d "/run/user/$uid" ]; then envs+=(XDG_RUNTIME_DIR="/run/user/$uid"); fi
  rc=0
  as_user env -u XDG_RUNTIME_DIR "${envs[@]}" bash "$script" "$@" || rc=$?
  exit "$rc"
fi
[ "$(id -u)" != 0 ] || die "run as root (re-runs as BENCH_USER) or as an unprivileged user, not as BENCH_USER=root"

# ---------------------------------------------------------------- as the bench user
for t in hyperfine jq tar; do
  command -v "$t" >/dev/null || die "$t is not installed (hint: apt-get install hyperfine jq tar)"
done
[ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (hint: apt-get install busybox-static, or set BUSYBOX)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then log "warning: $BUSYBOX is dynamically linked; the image's sh will not run (use busybox-static)"; fi

if [ "$PODMAN" = none ] || ! command -v "$PODMAN" >/dev/null 2>&1; then
  log "podman: skipped ($([ "$PODMAN" = none ] && echo "PODMAN=none" || echo "$PODMAN is not installed"); only burrow's figures are measured)"
  PODMAN=""
fi

WORK=$(mktemp -d "$BENCH_TMP/burrow-bench-images.XXXXXX")
# Time a private copy: a `make build` during the run must not swap the binary under us.
mkdir "$WORK/bin"; install -m 0755 "$BURROW" "$WORK/bin/burrow"
BURROW=$WORK/bin/burrow
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
B_EMPTY=(--root "$WORK/burrow-empty/root" --runroot "$WORK/burrow-empty/run")
P_STORE=(--root "$WORK/podman/root" --runroot "$WORK/podman/run")
burrow() { "$BURROW" "$@"; }
pod() { "$PODMAN" "${P_STORE[@]}" "$@"; }

podman_used=0
cleanup() {
  local rc=$? out
  trap - EXIT INT TERM
  set +e
  if [ -d "$WORK/burrow" ]; then
    out=$(burrow "${B_STORE[@]}" system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  if [ -d "$WORK/burrow-empty" ]; then
    out=$(burrow "${B_EMPTY[@]}" system reset -f 2>&1) || log "cleanup: burrow system reset (empty store) failed: $out"
  fi
  if [ "$podman_used" = 1 ]; then
    # Not `podman system reset`: podman 4's also stops the user's pause process, removes
    # the user's non-default networks and empties the shared tmpdir
    # (/tmp/podman-run-UID/libpod/tmp), which other podman work of this user may be
    # using. Instead rmi -a, then remove the store inside podman's namespaces:
    # layer files belong to subordinate ids, and the overlay driver leaves its home
    # bind-mounted on itself in the mount namespace of podman's pause process.
    out=$(pod rmi -a -f 2>&1) || log "cleanup: podman rmi -a -f failed: $out"
    # shellcheck disable=SC2016 # $1 and $5 are for the inner sh and awk
    out=$(pod unshare sh -c 'awk -v d="$1/" "index(\$5, d) == 1 {print \$5}" /proc/self/mountinfo \
            | sort -r | while read -r m; do umount -l "$m"; done; rm -rf "$1"' sh "$WORK/podman" 2>&1) \
      || log "cleanup: removing podman's store failed: $out"
  fi
  rm -rf "$WORK" 2>/dev/null || log "cleanup: could not remove all of $WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- fixture: busybox rootfs tarball
TAR=$WORK/busybox-rootfs.tar
make_rootfs_tar() {
  local r=$WORK/rootfs a
  mkdir -p "$r"/{bin,etc,tmp,root,proc,sys,dev}
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  cp "$BUSYBOX" "$r/bin/busybox"; chmod 755 "$r/bin/busybox"
  for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$r/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$r" -cf "$TAR" .
  rm -rf "$r"
}
make_rootfs_tar
log "fixture: $TAR ($(du -k "$TAR" | cut -f1) KiB, $("$BUSYBOX" --list | wc -l) applets)"

# ---------------------------------------------------------------- stores with N_IMAGES images
REPO=localhost/bench
tags=()
for i in $(seq 1 "$N_IMAGES"); do tags+=("$REPO:img$i"); done

log "burrow: importing $N_IMAGES images into $WORK/burrow"
mkdir -p "$WORK/burrow"
for i in $(seq 1 "$N_IMAGES"); do
  burrow "${B_STORE[@]}" import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=$i" "$TAR" "$REPO:img$i" >/dev/null
done
mkdir -p "$WORK/burrow-empty"
n=$(burrow "${B_STORE[@]}" images -q | wc -l)
[ "$n" = "$N_IMAGES" ] || die "burrow images -q lists $n images, expected $N_IMAGES"
n=$(burrow "${B_STORE[@]}" images -q | sort -u | wc -l)
[ "$n" = "$N_IMAGES" ] || die "burrow has only $n distinct image IDs, expected $N_IMAGES"

if [ -n "$PODMAN" ]; then
  log "podman: importing $N_IMAGES images into $WORK/podman"
  mkdir -p "$WORK/podman"; podman_used=1
  if ! err=$(pod import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=1" "$TAR" "$REPO:img1" 2>&1 >/dev/null); then
    log "podman: skipped (import into a throw-away store failed: $err)"
    PODMAN=""
  else
    for i in $(seq 2 "$N_IMAGES"); do
      pod import -q --change 'CMD ["/bin/sh"]' --change "LABEL bench.n=$i" "$TAR" "$REPO:img$i" >/dev/null
    done
    n=$(pod images -q --no-trunc | sort -u | wc -l)
    [ "$n" = "$N_IMAGES" ] || die "podman images lists $n distinct images, expected $N_IMAGES"
  fi
fi

# ---------------------------------------------------------------- timing
# busy_pct: whole-machine CPU busy % over 1 s (the machine may have other work)
busy_pct() {
  local a b t1=0 t2=0 i
  read -ra a < /proc/stat; sleep 1; read -ra b < /proc/stat
  for i in 1 2 3 4 5 6 7 8; do t1=$((t1 + a[i])); t2=$((t2 + b[i])); done
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=$((t2 - t1))
  if [ "$tot" -gt 0 ]; then echo $((100 - 100 * idle / tot)); else echo 0; fi
}
# wait_quiet: print the busy % once it is <= QUIET_PCT or QUIET_MAX s have passed.
wait_quiet() {
  local b waited=1; b=$(busy_pct)
  while [ "$WAIT_QUIET" = 1 ] && [ "$b" -gt "$QUIET_PCT" ] && [ "$waited" -lt "$QUIET_MAX" ]; do
    b=$(busy_pct); waited=$((waited + 1))
  done
  echo "$b"
}

# run_hyperfine OUT.json NAME=CMD...: time every command (no shell: -N), RUNS runs
# and WARMUP warm-up runs each, in ROUNDS invocations, the times pooled into OUT.json
# as {"name": [seconds...]}.
run_hyperfine() {
  local out=$1; shift
  local cmds=("$@") per=$(( (RUNS + ROUNDS - 1) / ROUNDS )) r j args
  echo '{}' > "$out"
  for r in $(seq 1 "$ROUNDS"); do
    local order=("${cmds[@]}")
    if [ $((r % 2)) = 0 ]; then
      order=(); for ((j = ${#cmds[@]} - 1; j >= 0; j--)); do order+=("${cmds[j]}"); done
    fi
    args=()
    for j in "${order[@]}"; do args+=(-n "${j%%=*}" "${j#*=}"); done
    [ "$ROUNDS" = 1 ] || log "round $r/$ROUNDS"
    hyperfine -N --style basic --runs "$per" --warmup "$WARMUP" --export-json "$out.r$r" "${args[@]}" >&2
    jq -s '.[0] as $acc | .[1].results | reduce .[] as $x ($acc; .[$x.command] += $x.times)' \
      "$out" "$out.r$r" > "$out.tmp" && mv "$out.tmp" "$out"
  done
}

# stats OUT.json NAME: "median=…s mean=…s sd=…s min=…s max=…s n=…" (sd: sample, as hyperfine)
stats() {
  jq -r --arg k "$2" '.[$k] | sort as $t | length as $n | (add / $n) as $m
    | (if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end) as $med
    | (if $n > 1 then ((map((. - $m) * (. - $m)) | add) / ($n - 1) | sqrt) else 0 end) as $sd
    | def r: . * 10000 | round / 10000;
      "median=\($med | r)s mean=\($m | r)s sd=\($sd | r)s min=\($t[0] | r)s max=\($t[-1] | r)s n=\($n)"' "$1"
}
bver=$(burrow version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')
pver=n/a
[ -z "$PODMAN" ] || pver=$("$PODMAN" --version | awk '{print $NF}')
bdrv=$(burrow "${B_STORE[@]}" info --format '{{.Store.Driver}}' 2>/dev/null || echo '?')
pdrv=n/a
[ -z "$PODMAN" ] || pdrv=$(pod info --format '{{.Store.GraphDriverName}}' 2>/dev/null || echo '?')
echo "# bench/images.sh burrow=$bver podman=$pver drivers=burrow:$bdrv,podman:$pdrv images=$N_IMAGES" \
     "host=$(hostname) cores=$(nproc) kernel=$(uname -r) date=$(date -Is) runs=$RUNS warmup=$WARMUP rounds=$ROUNDS" \
     "user=$(id -un) busy_before=$(wait_quiet)% load1_before=$(cut -d' ' -f1 /proc/loadavg)"

J=$WORK/main.json
cmds=()
[ -z "$PODMAN" ] || cmds+=("podman images=$PODMAN ${P_STORE[*]} images")
cmds+=("burrow images=$BURROW ${B_STORE[*]} images"
       "burrow images -q=$BURROW ${B_STORE[*]} images -q"
       "burrow version=$BURROW version")
run_hyperfine "$J" "${cmds[@]}"
echo "# load1_after=$(cut -d' ' -f1 /proc/loadavg)"

echo "g1 images_$N_IMAGES burrow $(stats "$J" 'burrow images')"
if [ -n "$PODMAN" ]; then
  echo "g1 images_$N_IMAGES podman $(stats "$J" 'podman images')"
  jq -r --arg fig "images_$N_IMAGES" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def mean: add / length;
    def r: . * 1000 | round / 1000;
    ((.["burrow images"] | med) / (.["podman images"] | med)) as $rm
    | ((.["burrow images"] | mean) / (.["podman images"] | mean)) as $ra
    | "g1 \($fig) ratio burrow/podman median=\($rm | r) mean=\($ra | r) (goal < 0.1: \(if $rm < 0.1 then "met" else "NOT met" end))"' "$J"
else
  echo "g1 images_$N_IMAGES podman n/a (skipped)"
  echo "g1 images_$N_IMAGES ratio burrow/podman n/a"
fi
echo "g1 images_${N_IMAGES}_q burrow $(stats "$J" 'burrow images -q')"
echo "g1 version burrow $(stats "$J" 'burrow version')"
[ -z "$JSON" ] || cp "$J" "$JSON-main.json"

# ---------------------------------------------------------------- BREAKDOWN=1: where burrow's time goes
# `burrow images` = exec + Go runtime + package init + flags/config (as `burrow version`,
#                   which enters no namespace)
#                 + entering a user and mount namespace: in full mode the setuid newuidmap
#                   and newgidmap map the subordinate ranges, in single mode the process
#                   writes its one-id maps itself (`burrow unshare /bin/true` does just that,
#                   plus an exec of /bin/true)
#                 + store open (containers/storage: locks, driver probe, JSON of
#                   images/containers/layers) + listing + printing + store shutdown.
# Each piece is the difference of two medians, so it is approximate (each side has its
# own noise). Every command goes through env(1), so that all pay the same extra exec.
if [ "$BREAKDOWN" = 1 ]; then
  K=$WORK/breakdown.json
  bd=("true=env /bin/true"
      "version=env BURROW_USERNS=full $BURROW version"
      "unshare single=env BURROW_USERNS=single $BURROW unshare /bin/true"
      "unshare full=env BURROW_USERNS=full $BURROW unshare /bin/true"
      "images empty store=env BURROW_USERNS=full $BURROW ${B_EMPTY[*]} images"
      "images full store=env BURROW_USERNS=full $BURROW ${B_STORE[*]} images")
  # The same id mapping by util-linux, as a cross-check of the newuidmap/newgidmap cost.
  if unshare --help 2>/dev/null | grep -q -- --map-auto && unshare --map-auto --map-root-user true 2>/dev/null; then
    bd+=("unshare -Ur=env unshare -Ur /bin/true" "unshare map-auto=env unshare --map-auto --map-root-user /bin/true")
  fi
  log "breakdown: $(busy_pct)% busy"
  run_hyperfine "$K" "${bd[@]}"
  for c in "${bd[@]}"; do
    k=${c%%=*}
    printf 'breakdown %-20s %s\n' "${k// /_}" "$(stats "$K" "$k")"
  done
  # Package initialisation of the Go binary (paid once per process, so twice by images).
  for i in $(seq 1 11); do
    GODEBUG=inittrace=1 "$BURROW" version 2>&1 >/dev/null | awk '/^init / {s += $5; n++} END {printf "%.3f %d\n", s, n}'
  done | sort -n | awk '{a[NR] = $1; n = $2} END {printf "breakdown go_package_init       median=%.2fms (sum over %d packages, GODEBUG=inittrace=1, 11 runs of version)\n", a[int((NR + 1) / 2)], n}'
  jq -r --arg n "$N_IMAGES" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def ms: (. * 10000 | round / 10) as $x | (if $x == 0 then 0 else $x end) | tostring + " ms";
    (map_values(med)) as $m
    | "breakdown split of `images` with \($n) images (differences of the medians above):",
      "  process start: exec + Go runtime + package init + CLI   (version - true)              \(($m.version - $m.true) | ms)",
      "  enter a user namespace, single-id map                    (unshare single - version)      \(($m["unshare single"] - $m.version) | ms)",
      "  newuidmap + newgidmap                                    (unshare full - unshare single) \(($m["unshare full"] - $m["unshare single"]) | ms)",
      (if $m["unshare map-auto"] then
      "    cross-check, util-linux                                (unshare map-auto - unshare -Ur) \(($m["unshare map-auto"] - $m["unshare -Ur"]) | ms)" else empty end),
      "  store open + shutdown, empty store                       (images empty - unshare full)   \(($m["images empty store"] - $m["unshare full"]) | ms)",
      "  listing + table of the images                            (images full - images empty)    \(($m["images full store"] - $m["images empty store"]) | ms)",
      "  total                                                    (images full - true)            \(($m["images full store"] - $m.true) | ms)"' "$K"
  [ -z "$JSON" ] || cp "$K" "$JSON-breakdown.json"
fi
