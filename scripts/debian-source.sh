#!/usr/bin/env bash
# Fetches Debian source packages, idempotently, for the tests and the bench:
#   scripts/debian-source.sh DEST PKG...
# Each package is unpacked by dpkg-source (Debian's patches applied) into
# DEST/<source>-<version>/, <source> being the source package that builds PKG
# (rust-ripgrep for ripgrep); its path is printed, one a line. Adds deb-src entries mirroring the machine's deb
# entries when there are none, and installs dpkg-dev. Needs root (or sudo).
set -euo pipefail

dest=${1:?usage: debian-source.sh DEST PKG...}
shift
sudo=
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive
log() { printf 'debian-source: %s\n' "$*" >&2; }

have_deb_src() {
    grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
updated=0
if ! have_deb_src; then
    orig=/etc/apt/sources.list.d/debian.sources
    if [ -f "$orig" ]; then
        sed -E 's/^Types:.*$/Types: deb-src/' "$orig" | $sudo tee /etc/apt/sources.list.d/orchestrate-deb-src.sources >/dev/null
    else
        grep -hE '^deb[[:space:]]' /etc/apt/sources.list 2>/dev/null | sed -E 's/^deb[[:space:]]/deb-src /' \
            | $sudo tee /etc/apt/sources.list.d/orchestrate-deb-src.list >/dev/null
    fi
    log "added deb-src entries"
    $sudo apt-get update -qq
    updated=1
fi
if ! command -v dpkg-source >/dev/null 2>&1; then
    [ "$updated" = 1 ] || { $sudo apt-get update -qq; updated=1; }
    $sudo apt-get install -y -qq --no-install-recommends dpkg-dev >/dev/null
fi

# The source package's name: PKG itself, or the source that builds binary PKG.
srcname() {
    local s
    s=$(apt-cache showsrc "$1" 2>/dev/null | awk '/^Package:/ { print $2; exit }')
    printf '%s\n' "${s:-$1}"
}
unpacked() { compgen -G "$dest/$1-*/" >/dev/null || compgen -G "$dest/$(srcname "$1")-*/" >/dev/null; }

mkdir -p "$dest"
for p in "$@"; do
    if unpacked "$p"; then continue; fi
    log "apt-get source $p"
    if ! (cd "$dest" && apt-get source -qq "$p" >/dev/null 2>&1); then
        [ "$updated" = 1 ] || { $sudo apt-get update -qq; updated=1; }
        (cd "$dest" && apt-get source -qq "$p" >/dev/null)
    fi
done
for p in "$@"; do
    { compgen -G "$dest/$p-*/" || compgen -G "$dest/$(srcname "$p")-*/"; } | head -n 1
done
