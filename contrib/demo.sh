#!/bin/bash
# The README's demo: make the default base image from the host's
# busybox-static, import it, list it and inspect it. Run as root, burrow
# runs as an unprivileged user (DEMO_USER, created with subordinate ids if
# missing), because root is not what burrow is for.
set -euo pipefail
cd "$(dirname "$0")/.."
DEMO_USER=${DEMO_USER:-burrowdemo}
if [ "$(id -u)" = 0 ]; then
  if ! id "$DEMO_USER" >/dev/null 2>&1; then
    useradd -m -s /bin/bash "$DEMO_USER"
    for f in /etc/subuid /etc/subgid; do
      grep -q "^$DEMO_USER:" "$f" 2>/dev/null || {
        start=$(awk -F: '{e=$2+$3; if (e>m) m=e} END {print (m>300000 ? m : 300000)}' "$f" 2>/dev/null || echo 300000)
        echo "$DEMO_USER:$start:65536" >> "$f"; }
    done
  fi
  dir=$(mktemp -d /tmp/burrow-demo.XXXXXX)
  cp bin/burrow contrib/demo.sh contrib/busybox-rootfs.sh README.md "$dir/"
  mkdir -p "$dir/bin" "$dir/contrib" && mv "$dir/burrow" "$dir/bin/" && mv "$dir/demo.sh" "$dir/busybox-rootfs.sh" "$dir/contrib/"
  chmod -R a+rX "$dir"
  home=$(getent passwd "$DEMO_USER" | cut -d: -f6)
  status=0
  runuser -u "$DEMO_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$DEMO_USER" bash "$dir/contrib/demo.sh" || status=$?
  rm -rf "$dir"
  exit $status
fi

burrow=$PWD/bin/burrow
run() { printf '\n$ burrow %s\n' "$*"; "$burrow" "$@"; }
tar=$(mktemp /tmp/busybox-rootfs.XXXXXX.tar)
trap 'rm -f "$tar"' EXIT
bash contrib/busybox-rootfs.sh "$tar"
echo "burrow demo as $(id -un) (uid $(id -u)), store in ~/.local/share/burrow"
run import --change 'CMD ["/bin/sh"]' -m "busybox from the host's busybox-static" "$tar" busybox
run images
run tag busybox localhost/demo:1.0
run images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'
run history busybox
run inspect --format '{{.Id}} {{.Os}}/{{.Architecture}} Cmd={{json .Config.Cmd}} layers={{len .RootFS.Layers}}' busybox
run info --format 'userns mode: {{.UserNS.Mode}}, storage driver: {{.Store.Driver}} on {{.Store.BackingFS}}'
run rmi localhost/demo:1.0
run run --rm busybox sh -c 'echo "hello from a container: $(id -un) on $(hostname), pid $$"'
run run -d --name demo-web busybox sh -c 'echo serving; while true; do sleep 1; done'
sleep 0.5
run ps
run logs demo-web
run exec demo-web sh -c 'echo "exec sees pid 1: $(cat /proc/1/comm)"'
run stop -t 1 demo-web
run ps -a
run rm demo-web

# A published port: busybox httpd in its own network, fetched from the host.
port=$(( 20000 + RANDOM % 20000 ))
run run -d --name demo-httpd -p "$port:8080" busybox sh -c 'mkdir -p /www && echo "hello through -p" > /www/index.html && exec httpd -f -p 8080 -h /www'
run port demo-httpd
for _ in $(seq 50); do
  if out=$(wget -qO- "http://127.0.0.1:$port/index.html" 2>/dev/null || busybox wget -qO- "http://127.0.0.1:$port/index.html" 2>/dev/null); then break; fi
  sleep 0.1
done
printf '
$ wget -qO- http://127.0.0.1:%s/index.html
%s
' "$port" "${out:-(no answer)}"
run rm -f demo-httpd

# The README's example Dockerfile, built and run.
ctx=$(mktemp -d /tmp/burrow-demo-ctx.XXXXXX)
trap 'rm -f "$tar"; rm -rf "$ctx"' EXIT
awk '/^```dockerfile$/ {on=1; next} on && /^```$/ {exit} on' README.md > "$ctx/Dockerfile"
printf '#!/bin/sh\ncat "$APP_HOME/built.txt"\necho "running as $(id -u) in $(pwd)"\n' > "$ctx/greet.sh"
run build -t greeter "$ctx"
run run --rm greeter
run build -t greeter "$ctx"
run history greeter
