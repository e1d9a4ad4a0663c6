# bench/lib.sh: what the bench scripts share, sourced by images.sh, containers.sh,
# compare.sh, run-phases.sh and the others (not run on its own). It sets the common
# knobs' defaults and defines:
#
#   log, die                 messages on stderr, die exits 1
#   bench_check_burrow       BURROW (and every binary of BENCH_BINS) must be an
#                            executable; made an absolute path
#   bench_become_user ARGS   started by root: re-run the script as BENCH_USER and exit
#                            with its status (copying binaries, script and this file to a
#                            temporary directory if the user cannot reach them)
#   as_user CMD...           run CMD as BENCH_USER (from /, with runuser)
#   bench_check_tools T...   each tool must be installed; the fixture's busybox too
#   bench_detect_podman      PODMAN="" when PODMAN=none or podman is not installed
#   bench_start_work NAME    WORK: a new temporary directory under BENCH_TMP, removed at
#                            exit, Ctrl-C or TERM (bench_cleanup), with a private copy of
#                            each binary (BURROW is then WORK/bin/burrow); P_STORE and pod()
#   make_rootfs_tar OUT      the fixture: a busybox rootfs tarball
#   busy_pct, wait_quiet     the machine's CPU busy %; the wait for a quiet machine
#   run_hyperfine, stats, ratio   timing with hyperfine and the figures of its times
#
# A script sets `set -euo pipefail`, sources this file, then appends its own knobs to
# BENCH_KNOBS (the variables passed on when re-run as BENCH_USER) and may define
# cleanup_stores, which bench_cleanup calls first (with set +e) to empty its stores.
# A script that times a second burrow binary (bench/compare.sh) appends the name of the
# variable holding it to both BENCH_KNOBS and BENCH_BINS (the variables holding burrow
# binaries: checked, copied for BENCH_USER if need be, and copied into WORK).
# shellcheck shell=bash

SCRIPT=$(readlink -f "${BASH_SOURCE[1]}")
SCRIPT_DIR=$(dirname "$SCRIPT")
BENCH_LIB=$(readlink -f "${BASH_SOURCE[0]}")

# ---------------------------------------------------------------- the common knobs
BENCH_USER=${BENCH_USER:-builder}
BURROW=${BURROW:-$SCRIPT_DIR/../bin/burrow}
PODMAN=${PODMAN:-podman}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
ROUNDS=${ROUNDS:-1}
BREAKDOWN=${BREAKDOWN:-0}
WAIT_QUIET=${WAIT_QUIET:-1}
QUIET_PCT=${QUIET_PCT:-10}
QUIET_MAX=${QUIET_MAX:-60}
BUSYBOX=${BUSYBOX:-/bin/busybox}
BENCH_TMP=${BENCH_TMP:-${TMPDIR:-/tmp}}
JSON=${JSON:-}
BENCH_KNOBS=(BENCH_USER BURROW PODMAN RUNS WARMUP ROUNDS BREAKDOWN BUSYBOX
             WAIT_QUIET QUIET_PCT QUIET_MAX BENCH_TMP JSON)
BENCH_BINS=(BURROW)

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FATAL: $*"; exit 1; }

as_user() { (cd / && runuser -u "$BENCH_USER" -- "$@"); }

bench_check_burrow() {
  local v
  [ -x "$BURROW" ] || die "no executable burrow at $BURROW (hint: run \`make build\` first, or set BURROW=/path/to/burrow)"
  for v in "${BENCH_BINS[@]}"; do
    [ -x "${!v}" ] || die "no executable burrow at ${!v} (hint: set $v=/path/to/burrow)"
    printf -v "$v" '%s' "$(readlink -f "${!v}")"
  done
}

# bench_bin_dir VAR: the directory, in WORK or the copy for BENCH_USER, of the binary
# held by VAR: bin for BURROW, bin-old for BURROW_OLD, bin-x for BURROW_X.
bench_bin_dir() {
  if [ "$1" = BURROW ]; then echo bin; else local s=${1#BURROW_}; echo "bin-${s,,}"; fi
}

# ---------------------------------------------------------------- root: re-run as BENCH_USER
# bench_become_user "$@": as root (and BENCH_USER is not root), re-run the script as
# BENCH_USER with the knobs of BENCH_KNOBS and exit with its status. If that user cannot
# reach a binary (of BENCH_BINS), the script or this file, they are copied to a
# temporary directory first (BURROW's as burrow, another's as DIR/burrow, DIR from
# bench_bin_dir), removed at exit. As BENCH_USER, return; as root with BENCH_USER=root,
# die.
BENCH_COPY_DIR=""
bench_become_user() {
  if [ "$(id -u)" = 0 ] && [ "$(id -un)" != "$BENCH_USER" ]; then
    id "$BENCH_USER" >/dev/null 2>&1 || die "no user $BENCH_USER (hint: set BENCH_USER to an unprivileged user with /etc/subuid and /etc/subgid ranges)"
    trap '[ -z "$BENCH_COPY_DIR" ] || rm -rf "$BENCH_COPY_DIR"' EXIT
    local script=$SCRIPT name uid v d rc=0 envs=() reach=1
    local -A bins=()
    for v in "${BENCH_BINS[@]}"; do
      bins[$v]=${!v}
      as_user test -x "${!v}" || reach=0
    done
    if [ "$reach" = 0 ] || ! as_user test -r "$SCRIPT" || ! as_user test -r "$BENCH_LIB"; then
      name=$(basename "$SCRIPT")
      BENCH_COPY_DIR=$(mktemp -d "$BENCH_TMP/burrow-bench-bin.XXXXXX")
      chmod 755 "$BENCH_COPY_DIR"
      for v in "${BENCH_BINS[@]}"; do
        if [ "$v" = BURROW ]; then d=$BENCH_COPY_DIR; else d=$BENCH_COPY_DIR/$(bench_bin_dir "$v"); mkdir -m 755 "$d"; fi
        install -m 0755 "${!v}" "$d/burrow"
        bins[$v]=$d/burrow
      done
      install -m 0644 "$SCRIPT" "$BENCH_COPY_DIR/$name"
      install -m 0644 "$BENCH_LIB" "$BENCH_COPY_DIR/lib.sh"
      script=$BENCH_COPY_DIR/$name
      log "copied burrow (${BENCH_BINS[*]}), $name and lib.sh to $BENCH_COPY_DIR (not reachable by $BENCH_USER where they are)"
    fi
    for v in "${BENCH_KNOBS[@]}"; do
      if [ -n "${bins[$v]+set}" ]; then envs+=("$v=${bins[$v]}"); else envs+=("$v=${!v}"); fi
    done
    # root's XDG_RUNTIME_DIR (if any) must not leak into the user's podman.
    uid=$(id -u "$BENCH_USER")
    if [ -d "/run/user/$uid" ]; then envs+=(XDG_RUNTIME_DIR="/run/user/$uid"); fi
    as_user env -u XDG_RUNTIME_DIR "${envs[@]}" bash "$script" "$@" || rc=$?
    exit "$rc"
  fi
  [ "$(id -u)" != 0 ] || die "run as root (re-runs as BENCH_USER) or as an unprivileged user, not as BENCH_USER=root"
}

# ---------------------------------------------------------------- tools, busybox, podman
bench_check_tools() {
  local t pkgs=()
  for t in "$@"; do
    case $t in perf) pkgs+=(linux-perf) ;; runuser) pkgs+=(util-linux) ;; *) pkgs+=("$t") ;; esac
  done
  for t in "$@"; do
    command -v "$t" >/dev/null || die "$t is not installed (hint: apt-get install ${pkgs[*]})"
  done
  [ -x "$BUSYBOX" ] || die "no busybox at $BUSYBOX (hint: apt-get install busybox-static, or set BUSYBOX)"
  if ldd "$BUSYBOX" >/dev/null 2>&1; then log "warning: $BUSYBOX is dynamically linked; the image's sh will not run (use busybox-static)"; fi
}

bench_detect_podman() {
  if [ "$PODMAN" = none ] || ! command -v "$PODMAN" >/dev/null 2>&1; then
    log "podman: skipped ($([ "$PODMAN" = none ] && echo "PODMAN=none" || echo "$PODMAN is not installed"); only burrow's figures are measured)"
    PODMAN=""
  fi
}

# ---------------------------------------------------------------- the temporary directory
# bench_start_work NAME: WORK=$BENCH_TMP/NAME.XXXXXX, removed with everything in it by
# bench_cleanup at exit (also on failure, Ctrl-C or TERM). The binary is timed from a
# private copy, in a directory of its own, WORK/bin: a `make build` during the run must
# not swap it under us, and libcontainer's exe sealing needs it (see containers.sh).
# So is every other binary of BENCH_BINS (BURROW_OLD: WORK/bin-old/burrow).
# KEEP_IN_WORK: a name in WORK that bench_cleanup leaves (the rest is removed).
# podman_used=1 once podman's store (P_STORE, under WORK/podman) may hold anything.
WORK="" KEEP_IN_WORK="" podman_used=0 P_STORE=()
bench_start_work() {
  WORK=$(mktemp -d "$BENCH_TMP/$1.XXXXXX")
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local v d
  for v in "${BENCH_BINS[@]}"; do
    d=$WORK/$(bench_bin_dir "$v")
    mkdir "$d"; install -m 0755 "${!v}" "$d/burrow"
    printf -v "$v" '%s' "$d/burrow"
  done
  P_STORE=(--root "$WORK/podman/root" --runroot "$WORK/podman/run")
}
pod() { "$PODMAN" "${P_STORE[@]}" "$@"; }

bench_cleanup() {
  local rc=$? out
  trap - EXIT INT TERM
  set +e
  if declare -F cleanup_stores >/dev/null; then cleanup_stores; fi
  if [ "$podman_used" = 1 ]; then
    # Not `podman system reset`: podman 4's also stops the user's pause process, removes
    # the user's non-default networks and empties the shared tmpdir
    # (/tmp/podman-run-UID/libpod/tmp), which other podman work of this user may be
    # using. Instead rm -a and rmi -a, then remove the store inside podman's namespaces:
    # layer files belong to subordinate ids, and the overlay driver leaves its home
    # bind-mounted on itself in the mount namespace of podman's pause process.
    out=$(pod rm -a -f -t 0 2>&1) || log "cleanup: podman rm -a -f failed: $out"
    out=$(pod rmi -a -f 2>&1) || log "cleanup: podman rmi -a -f failed: $out"
    # shellcheck disable=SC2016 # $1 and $5 are for the inner sh and awk
    out=$(pod unshare sh -c 'awk -v d="$1/" "index(\$5, d) == 1 {print \$5}" /proc/self/mountinfo \
            | sort -r | while read -r m; do umount -l "$m"; done; rm -rf "$1"' sh "$WORK/podman" 2>&1) \
      || log "cleanup: removing podman's store failed: $out"
  fi
  if [ -n "$WORK" ] && [ -n "$KEEP_IN_WORK" ]; then
    find "$WORK" -mindepth 1 -maxdepth 1 ! -name "$KEEP_IN_WORK" -exec rm -rf {} + \
      || log "cleanup: could not remove all of $WORK but $KEEP_IN_WORK"
    log "kept: $WORK/$KEEP_IN_WORK"
  elif [ -n "$WORK" ]; then
    rm -rf "$WORK" 2>/dev/null || log "cleanup: could not remove all of $WORK"
  fi
  exit "$rc"
}

# ---------------------------------------------------------------- fixture: busybox rootfs tarball
# make_rootfs_tar OUT: a rootfs of the static BUSYBOX with its applets as symlinks,
# /etc/passwd and /etc/group, as a tar owned by 0:0 (made in WORK/rootfs, then removed).
make_rootfs_tar() {
  local out=$1 r=$WORK/rootfs a
  mkdir -p "$r"/{bin,etc,tmp,root,proc,sys,dev}
  chmod 1777 "$r/tmp"; chmod 700 "$r/root"
  cp "$BUSYBOX" "$r/bin/busybox"; chmod 755 "$r/bin/busybox"
  for a in $("$BUSYBOX" --list); do
    [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' > "$r/etc/group"
  tar --numeric-owner --owner=0 --group=0 -C "$r" -cf "$out" .
  rm -rf "$r"
  log "fixture: $out ($(du -k "$out" | cut -f1) KiB, $("$BUSYBOX" --list | wc -l) applets)"
}

# ---------------------------------------------------------------- timing
# busy_pct: whole-machine CPU busy % over 1 s (the machine may have other work)
busy_pct() {
  local a b t1=0 t2=0 i
  read -ra a < /proc/stat; sleep 1; read -ra b < /proc/stat
  for i in 1 2 3 4 5 6 7 8; do t1=$((t1 + a[i])); t2=$((t2 + b[i])); done
  local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=$((t2 - t1))
  if [ "$tot" -gt 0 ]; then echo $((100 - 100 * idle / tot)); else echo 0; fi
}
# wait_quiet: print the busy % once it is <= QUIET_PCT or QUIET_MAX s have passed
# (WAIT_QUIET=0: at once).
wait_quiet() {
  local b waited=1; b=$(busy_pct)
  while [ "$WAIT_QUIET" = 1 ] && [ "$b" -gt "$QUIET_PCT" ] && [ "$waited" -lt "$QUIET_MAX" ]; do
    b=$(busy_pct); waited=$((waited + 1))
  done
  echo "$b"
}

# run_hyperfine OUT.json NAME=CMD...: time every command (no shell: -N), RUNS runs
# and WARMUP warm-up runs each, in ROUNDS invocations (the command order reversed every
# other round), each after wait_quiet, the times pooled into OUT.json as
# {"name": [seconds...]}. A command whose name has an entry in PREP gets that command
# run before each of its runs (hyperfine --prepare, untimed).
declare -A PREP=()
run_hyperfine() {
  local out=$1; shift
  local cmds=("$@") per=$(( (RUNS + ROUNDS - 1) / ROUNDS )) r j k args has_prep=0
  for j in "${cmds[@]}"; do [ -z "${PREP[${j%%=*}]:-}" ] || has_prep=1; done
  echo '{}' > "$out"
  for r in $(seq 1 "$ROUNDS"); do
    local order=("${cmds[@]}")
    if [ $((r % 2)) = 0 ]; then
      order=(); for ((j = ${#cmds[@]} - 1; j >= 0; j--)); do order+=("${cmds[j]}"); done
    fi
    args=()
    for j in "${order[@]}"; do
      k=${j%%=*}
      args+=(-n "$k")
      # hyperfine takes either one --prepare for all commands or one per command.
      [ "$has_prep" = 0 ] || args+=(--prepare "${PREP[$k]:-true}")
    done
    for j in "${order[@]}"; do args+=("${j#*=}"); done
    log "$(basename "$out" .json): round $r/$ROUNDS, $(wait_quiet)% busy before"
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

# ratio OUT.json BURROW_NAME PODMAN_NAME [GOAL [OP]]: "median=… mean=…", then, with a
# GOAL, " (goal OP GOAL: met|NOT met)" for the ratio of the medians (OP: <= or <,
# default <=).
ratio() {
  jq -r --arg b "$2" --arg p "$3" --arg goal "${4:-}" --arg op "${5:-<=}" '
    def med: sort as $t | length as $n
      | if $n % 2 == 1 then $t[($n - 1) / 2] else ($t[$n / 2 - 1] + $t[$n / 2]) / 2 end;
    def mean: add / length;
    def r: . * 1000 | round / 1000;
    ((.[$b] | med) / (.[$p] | med)) as $rm | ((.[$b] | mean) / (.[$p] | mean)) as $ra
    | ($goal | if . == "" then null else tonumber end) as $g
    | "median=\($rm | r) mean=\($ra | r)" + (if $g == null then "" else
        " (goal \($op) \($goal): \(if (if $op == "<" then $rm < $g else $rm <= $g end) then "met" else "NOT met" end))" end)' "$1"
}

# report OUT.json ID FIG [GOAL]: the burrow, podman and ratio lines of one figure
# (commands named "burrow ID" and "podman ID"); GOAL: the issue's ratio goal, if any.
report() {
  local j=$1 id=$2 fig=$3 goal=${4:-}
  echo "$id $fig burrow $(stats "$j" "burrow $id")"
  if [ -n "$PODMAN" ]; then
    echo "$id $fig podman $(stats "$j" "podman $id")"
    echo "$id $fig ratio burrow/podman $(ratio "$j" "burrow $id" "podman $id" "$goal")"
  else
    echo "$id $fig podman n/a (skipped)"
    echo "$id $fig ratio burrow/podman n/a"
  fi
}
