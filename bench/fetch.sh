#!/usr/bin/env bash
# Fetches the real projects the benchmark builds, idempotently:
#   - Debian source packages lua5.4 and cmark (apt-get source) into bench/.work/src
#   - the librust-*-dev crates bench/rust-app depends on, used offline as a
#     directory source (/usr/share/cargo/registry, see bench/rust-app/.cargo/config.toml)
#   - the build tools (dpkg-dev for apt-get source, cmake, ninja)
# Needs root (or sudo) for apt-get. Prints where things are.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$here/.work
src=$work/src
rust_app=$here/rust-app
registry=/usr/share/cargo/registry

sudo=
if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
export DEBIAN_FRONTEND=noninteractive

log() { printf 'fetch: %s\n' "$*" >&2; }

# The crates bench/rust-app uses (and, through apt, their dependencies).
rust_pkgs=(librust-serde-dev librust-serde-derive-dev librust-serde-json-dev
           librust-itoa-dev librust-regex-dev
           librust-aho-corasick-dev librust-memchr-dev)  # regex's default perf-literal feature
tool_pkgs=(dpkg-dev cmake ninja-build make gcc git time)  # time: GNU time, CPU seconds in bench/run.mjs
src_pkgs=(lua5.4 cmark)

# 1. deb-src entries. The original deb822 file is left alone; a separate file
#    repeats its entries with `Types: deb-src`.
have_deb_src() {
    grep -rqsE '^[[:space:]]*(Types:.*deb-src|deb-src[[:space:]])' \
        /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}
updated=0
if ! have_deb_src; then
    orig=/etc/apt/sources.list.d/debian.sources
    dest=/etc/apt/sources.list.d/orchestrate-bench-deb-src.sources
    if [ -f "$orig" ]; then
        log "adding deb-src entries to $dest (from $orig)"
        sed -E 's/^Types:.*$/Types: deb-src/' "$orig" | $sudo tee "$dest" >/dev/null
    else
        # One-line format: mirror every `deb` line as `deb-src`.
        dest=/etc/apt/sources.list.d/orchestrate-bench-deb-src.list
        log "adding deb-src lines to $dest"
        grep -hE '^deb[[:space:]]' /etc/apt/sources.list 2>/dev/null \
            | sed -E 's/^deb[[:space:]]/deb-src /' | $sudo tee "$dest" >/dev/null
    fi
    $sudo apt-get update -qq
    updated=1
fi
# Source indexes missing (deb-src configured but never fetched)?
if [ "$updated" = 0 ] && ! apt-cache showsrc lua5.4 2>/dev/null | grep -q '^Package:'; then
    $sudo apt-get update -qq
    updated=1
fi

# 2. Packages: build tools and the Rust crates.
missing=()
for p in "${tool_pkgs[@]}" "${rust_pkgs[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' \
        || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
        [ "$updated" = 1 ] || { $sudo apt-get update -qq; updated=1; }
        $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
fi

# 3. Source packages, unpacked by dpkg-source (Debian patches applied).
mkdir -p "$src"
for p in "${src_pkgs[@]}"; do
    if compgen -G "$src/$p-*/" >/dev/null; then
        log "$p already in $src"
        continue
    fi
    log "apt-get source $p"
    (cd "$src" && apt-get source -qq "$p" >/dev/null 2>&1) \
        || (cd "$src" && apt-get source "$p")
done
# Lua as upstream ships it: Debian's 0001-build-system.patch switches the
# Makefile to libtool and a C++ build; the benchmark uses Lua's own Makefile.
if [ ! -d "$src/lua-upstream" ]; then
    log "unpacking lua5.4 without Debian patches into $src/lua-upstream"
    (cd "$src" && dpkg-source -q --skip-patches -x lua5.4_*.dsc lua-upstream >/dev/null)
fi
# Stable names for the benchmark: bench/.work/src/<pkg> -> <pkg>-<version>
for p in "${src_pkgs[@]}"; do
    d=$(cd "$src" && ls -d "$p"-*/ 2>/dev/null | head -n1)
    d=${d%/}
    [ -n "$d" ] && ln -sfn "$d" "$src/$p"
done

# 4. The Rust app builds offline from the Debian crates.
if command -v cargo >/dev/null; then
    log "cargo build --offline in $rust_app"
    (cd "$rust_app" && cargo build --offline -q)
    rust_ok="$rust_app/target/debug/rust-app"
else
    rust_ok="(cargo not found: bench/rust-app not built)"
fi

cat <<INFO
lua5.4 source:  $src/lua5.4 -> $(readlink "$src/lua5.4") (Debian patches applied)
lua upstream:   $src/lua-upstream (no Debian patches; the benchmark builds this)
cmark source:   $src/cmark -> $(readlink "$src/cmark")
rust crates:    $registry ($(ls "$registry" | wc -l) crates; ${rust_pkgs[*]})
rust app:       $rust_app (offline config: $rust_app/.cargo/config.toml)
rust binary:    $rust_ok
INFO
