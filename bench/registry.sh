#!/bin/bash
# bench/registry.sh: how long burrow takes to push to and pull from a registry, next to
# podman, measured side by side in one run (hyperfine). The image is the 121 MB Debian
# minbase rootfs (../shared/bench/images/debian-bookworm-minbase.tar.xz) imported into
# both tools; the registry is Debian's docker-registry on a loopback port, with a config
# and storage of its own under WORK. Goals (issue 6), as ratios of the medians:
#   f3 push to an empty registry (cold)                at most 0.7
#   f4 push when the registry has the blobs (warm)     at most 0.3
#   f5 pull into an empty store                        at most 0.5
#
# f3: before each run the registry is stopped, its storage emptied and started again.
# f5: before each run the pulled image is removed (rmi -f, image prune -a), so its layers
# go too; both
# tools pull the same image, pushed once by burrow (podman 4.3's push of an imported
# .tar.xz is not usable as the source: its config's diff ID is not the digest of the layer
# it pushes, which burrow, like Docker, refuses).
#
# Usage (root or the bench user): bash bench/registry.sh
#   FIGURES="f5" RUNS=5 bash bench/registry.sh
# Env: those of bench/lib.sh, and FIGURES (default "f3 f4 f5"), IMAGE_TAR (the rootfs
# tarball), REGISTRY_BIN (default docker-registry).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"
FIGURES=${FIGURES:-f3 f4 f5}
IMAGE_TAR=${IMAGE_TAR:-$(readlink -f "$SCRIPT_DIR/../../shared/bench/images/debian-bookworm-minbase.tar.xz" || true)}
REGISTRY_BIN=${REGISTRY_BIN:-docker-registry}
RUNS=${RUNS:-10}
BENCH_KNOBS+=(FIGURES IMAGE_TAR REGISTRY_BIN)

bench_check_burrow
bench_become_user "$@"

bench_check_tools hyperfine jq curl python3 "$REGISTRY_BIN"
[ -r "$IMAGE_TAR" ] || die "cannot read the image tarball $IMAGE_TAR (hint: set IMAGE_TAR)"
bench_detect_podman
bench_start_work burrow-bench-registry
B_STORE=(--root "$WORK/burrow/root" --runroot "$WORK/burrow/run")
burrow() { "$BURROW" "${B_STORE[@]}" "$@"; }
want() { [[ " $FIGURES " == *" $1 "* ]]; }
cleanup_stores() {
  local out
  [ ! -f "$WORK/registry/pid" ] || kill "$(cat "$WORK/registry/pid")" 2>/dev/null
  if [ -d "$WORK/burrow" ]; then
    out=$(burrow system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  if [ -d "$WORK/burrow/pull-root" ]; then
    out=$("$BURROW" --root "$WORK/burrow/pull-root" --runroot "$WORK/burrow/pull-run" system reset -f 2>&1) || log "cleanup: burrow system reset failed: $out"
  fi
  if [ -d "$WORK/podman/pull-root" ]; then
    out=$("$PODMAN" --root "$WORK/podman/pull-root" --runroot "$WORK/podman/pull-run" rmi -a -f 2>&1) || log "cleanup: podman rmi failed: $out"
    "$PODMAN" --root "$WORK/podman/pull-root" --runroot "$WORK/podman/pull-run" unshare rm -rf "$WORK/podman/pull-root" 2>/dev/null
  fi
}

# ---------------------------------------------------------------- the registry
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
REG=127.0.0.1:$PORT
mkdir -p "$WORK/registry"
cat > "$WORK/registry/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry/data
  delete:
    enabled: true
http:
  addr: $REG
EOF
# reset-registry.sh [empty]: (re)start the registry, emptied first with "empty".
cat > "$WORK/registry/reset.sh" <<EOF
#!/bin/sh
d=$WORK/registry
[ ! -f \$d/pid ] || { kill \$(cat \$d/pid) 2>/dev/null; while kill -0 \$(cat \$d/pid) 2>/dev/null; do sleep 0.05; done; }
[ "\${1:-}" != empty ] || rm -rf \$d/data
$(command -v "$REGISTRY_BIN") serve \$d/config.yml >>\$d/log 2>&1 &
echo \$! > \$d/pid
i=0; until curl -fs http://$REG/v2/ >/dev/null; do i=\$((i+1)); [ \$i -lt 200 ] || exit 1; sleep 0.05; done
EOF
chmod +x "$WORK/registry/reset.sh"
"$WORK/registry/reset.sh" empty || die "docker-registry did not start (see $WORK/registry/log)"

# ---------------------------------------------------------------- the image in both tools
SRC=$REG/bench/deb-src:latest BI=$REG/bench/deb-burrow:latest PI=$REG/bench/deb-podman:latest
mkdir -p "$WORK/burrow"
burrow import -q "$IMAGE_TAR" "$BI" >/dev/null
if [ -n "$PODMAN" ]; then
  mkdir -p "$WORK/podman"; podman_used=1
  pod import -q "$IMAGE_TAR" "$PI" >/dev/null || { log "podman: import failed, skipped"; PODMAN=""; }
fi
B="$BURROW ${B_STORE[*]}" P="$PODMAN ${P_STORE[*]}"

echo "# bench/registry.sh burrow=$("$BURROW" version --format '{{.Version}} ({{.GitCommit}})' 2>/dev/null || echo '?')" \
     "podman=$([ -z "$PODMAN" ] || "$PODMAN" --version | awk '{print $NF}') host=$(hostname) cores=$(nproc)" \
     "kernel=$(uname -r) date=$(date -Is) runs=$RUNS warmup=$WARMUP rounds=$ROUNDS user=$(id -un)" \
     "image=$(basename "$IMAGE_TAR") ($(du -k "$IMAGE_TAR" | cut -f1) KiB) driver=$(burrow info --format '{{.Store.Driver}}' 2>/dev/null || echo '?')"

if want f3; then
  J=$WORK/f3.json; cmds=("burrow f3=$B push -q $BI")
  PREP=(["burrow f3"]="$WORK/registry/reset.sh empty")
  [ -z "$PODMAN" ] || { cmds+=("podman f3=$P push -q --tls-verify=false $PI"); PREP["podman f3"]="$WORK/registry/reset.sh empty"; }
  run_hyperfine "$J" "${cmds[@]}"; report "$J" f3 push_cold 0.7
  PREP=()
fi
if want f4; then
  $B push -q "$BI" >/dev/null
  [ -z "$PODMAN" ] || $P push -q --tls-verify=false "$PI" >/dev/null
  J=$WORK/f4.json; cmds=("burrow f4=$B push -q $BI")
  [ -z "$PODMAN" ] || cmds+=("podman f4=$P push -q --tls-verify=false $PI")
  run_hyperfine "$J" "${cmds[@]}"; report "$J" f4 push_warm 0.3
fi
if want f5; then
  $B push -q "$BI" "$SRC" >/dev/null
  # Pulls go to stores of their own, which hold nothing else.
  B5="$BURROW --root $WORK/burrow/pull-root --runroot $WORK/burrow/pull-run"
  P5="$PODMAN --root $WORK/podman/pull-root --runroot $WORK/podman/pull-run"
  J=$WORK/f5.json; cmds=("burrow f5=$B5 pull -q $SRC")
  # rmi leaves an image that still has a RepoDigest (burrow's storage counts it as a
  # name), so prune -a too: then its layers go.
  PREP=(["burrow f5"]="sh -c '$B5 rmi -f $SRC >/dev/null 2>&1; $B5 image prune -a -f >/dev/null 2>&1; true'")
  [ -z "$PODMAN" ] || { cmds+=("podman f5=$P5 pull -q --tls-verify=false $SRC"); PREP["podman f5"]="sh -c '$P5 rmi -f $SRC >/dev/null 2>&1; $P5 image prune -a -f >/dev/null 2>&1; true'"; }
  run_hyperfine "$J" "${cmds[@]}"; report "$J" f5 pull_empty_store 0.5
  PREP=()
fi
