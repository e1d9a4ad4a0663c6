#!/bin/bash
# busybox-rootfs.sh OUT.tar: write a minimal rootfs tarball (busybox with
# every applet linked, /etc/passwd, /etc/group) from the host's static
# busybox (Debian package busybox-static). It is burrow's default base image
# for the demo and the README's examples: no registry is needed.
set -euo pipefail
out=${1:?usage: busybox-rootfs.sh OUT.tar}
bb=$(command -v busybox || true)
[ -n "$bb" ] || { echo "busybox not found (install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q 'dynamically linked' && { echo "$bb is dynamically linked: install busybox-static" >&2; exit 1; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t"/{bin,etc,tmp,root,proc,sys,dev,home,var/www}
cp "$bb" "$t/bin/busybox"
for a in $("$t/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$t/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$t/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$t/etc/group"
echo '<h1>hello from burrow</h1>' > "$t/var/www/index.html"
chmod 1777 "$t/tmp"
tar --numeric-owner --owner=0 --group=0 --mtime=@0 --sort=name -C "$t" -cf "$out" .
