#!/usr/bin/env bash
# Create (or reuse) the local Debian base image for `make image-test`: debootstrap from the
# machine's own Debian package source, imported with buildah. Base images cannot be pulled here.
# Usage: tests/image/base.sh IMAGE_NAME   (prints nothing but progress; idempotent)
set -euo pipefail
image=${1:?usage: base.sh IMAGE}
if buildah inspect --type image "$image" >/dev/null 2>&1; then
  echo "base image $image: reused"
  exit 0
fi
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
# The mirror apt uses (deb822 sources first, then the one-line format).
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
cache=${HIPAA_GATE_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hipaa-gate-image}
mkdir -p "$cache"
tarball="$cache/$suite-minbase-python3.tar"
if [ ! -s "$tarball" ]; then
  rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  echo "debootstrap $suite from $mirror (first run takes minutes)"
  # python3-venv: the Dockerfile installs into a virtualenv (Debian refuses system-wide pip).
  debootstrap --variant=minbase --include=python3,python3-venv "$suite" "$rootfs" "$mirror" \
    > "$cache/debootstrap.log" 2>&1 || { tail -n 30 "$cache/debootstrap.log"; exit 1; }
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
fi
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$tarball" / >/dev/null
buildah config --cmd '["/bin/bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
buildah commit --quiet "$ctr" "$image" >/dev/null
echo "base image $image: created from $tarball"
