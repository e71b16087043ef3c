#!/bin/sh
# Lays out the build context of tokend's container image (see Containerfile) from a binary
# that is already built: the binary, exactly the shared libraries `ldd` says it links (and the
# dynamic loader), an /etc with the unprivileged user tokend (uid 10001) and nothing else. No
# base image, no package manager, no network: `podman build` then works offline.
#
#   sh container/build-context.sh BINARY CONTEXT_DIR
#   podman build --format docker -f Containerfile -t tokend CONTEXT_DIR
set -eu

BINARY=${1:?usage: build-context.sh BINARY CONTEXT_DIR}
CONTEXT=${2:?usage: build-context.sh BINARY CONTEXT_DIR}
# The image's user; 10001 stays clear of the host's system and login users.
TOKEND_UID=10001

die() {
    printf 'build-context.sh: %s\n' "$*" >&2
    exit 1
}

if [ ! -f "$BINARY" ] || [ ! -x "$BINARY" ]; then
    die "$BINARY is not an executable file"
fi
command -v ldd >/dev/null 2>&1 || die "ldd is needed to find the libraries $BINARY links"
rm -rf "$CONTEXT"
ROOTFS=$CONTEXT/rootfs
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/etc" "$CONTEXT/data"
cp "$BINARY" "$ROOTFS/usr/local/bin/tokend"
chmod 0755 "$ROOTFS/usr/local/bin/tokend"

# Every `name => /path (address)` and the loader's `/path (address)` line; linux-vdso has no
# file. Each library is copied, symlinks resolved, to the path the binary will look for.
libraries=$(ldd "$BINARY" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libraries" ] || die "ldd found no libraries for $BINARY (a static binary needs none: drop this check)"
for library in $libraries; do
    mkdir -p "$ROOTFS$(dirname "$library")"
    cp -L "$library" "$ROOTFS$library"
done

cat >"$ROOTFS/etc/passwd" <<EOF
root:x:0:0:root:/root:/usr/sbin/nologin
tokend:x:$TOKEND_UID:$TOKEND_UID:tokend authentication-token server:/data:/usr/sbin/nologin
EOF
cat >"$ROOTFS/etc/group" <<EOF
root:x:0:
tokend:x:$TOKEND_UID:
EOF
# SMTP host names (e-mail 2FA) resolve through /etc/hosts, then DNS; glibc has both built in.
echo 'hosts: files dns' >"$ROOTFS/etc/nsswitch.conf"
chmod 0644 "$ROOTFS/etc/passwd" "$ROOTFS/etc/group" "$ROOTFS/etc/nsswitch.conf"
mkdir -p "$ROOTFS/tmp"
chmod 1777 "$ROOTFS/tmp"
printf 'build-context.sh: %s\n' "context in $CONTEXT: tokend and $(echo "$libraries" | wc -l) libraries"
