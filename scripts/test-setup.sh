#!/usr/bin/env bash
# What the test suite needs besides make, gcc, cmake, ninja, cargo and git, installed when missing
# (idempotent, quick when all is there; installing needs root, as on CI and this project's machines):
#   - Debian's Nix, single-user and sandboxed (the Nix tests);
#   - docker-registry, nginx with WebDAV and htpasswd (the remote-store tests start them on 127.0.0.1);
#   - autoconf, automake and libtool: jansson's Debian tarball ships no configure, and its test runs
#     `autoreconf -fi` in every clone as CI scripts for git checkouts do.
# Debian's source packages the tests build (libogg, jansson, lz4, json-c) are fetched by the tests
# themselves (scripts/debian-source.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/.ci/install-nix" >/dev/null
bash "$here/.ci/install-test-servers" >/dev/null

autotools=()
command -v autoreconf >/dev/null 2>&1 || autotools+=(autoconf)
command -v automake >/dev/null 2>&1 || autotools+=(automake)
command -v libtoolize >/dev/null 2>&1 || autotools+=(libtool)
if [ ${#autotools[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test-setup: missing ${autotools[*]}, and installing needs root (apt-get)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${autotools[@]}" >/dev/null
fi
