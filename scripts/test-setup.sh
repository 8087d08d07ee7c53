#!/usr/bin/env bash
# What the test suite needs besides make, gcc, cmake, ninja, cargo and git, installed when missing
# (idempotent, quick when all is there; installing needs root, as on CI and this project's machines):
#   - Debian's Nix, single-user and sandboxed (the Nix tests);
#   - docker-registry, nginx with WebDAV and htpasswd (the remote-store tests start them on 127.0.0.1).
# Debian's source packages the tests build (libogg) are fetched by the tests themselves
# (scripts/debian-source.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/.ci/install-nix" >/dev/null
bash "$here/.ci/install-test-servers" >/dev/null
