# The stand-in stdenv's builder: a small genericBuild with nixpkgs' phase names
# and hooks (pkgs/stdenv/generic/setup.sh), for a directory src.
set -eu -o pipefail
export HOME=/homeless-shelter

runHook() {
    local hook="$1"
    if [ -n "${!hook:-}" ]; then eval "${!hook}"; fi
}

unpackPhase() {
    runHook preUnpack
    # As nixpkgs unpacks a directory: copied with its attributes (the store's mtime 1), then made writable.
    local base="${src##*/}"
    sourceRoot="${base#*-}"
    cp -pr --reflink=auto -- "$src" "$sourceRoot"
    chmod -R u+w -- "$sourceRoot"
    runHook postUnpack
}

patchPhase() { runHook prePatch; runHook postPatch; }
configurePhase() { runHook preConfigure; runHook postConfigure; }
buildPhase() { runHook preBuild; make ${makeFlags:-}; runHook postBuild; }
checkPhase() { runHook preCheck; runHook postCheck; }
installPhase() { runHook preInstall; make install PREFIX="$out"; runHook postInstall; }
fixupPhase() {
    # What matters of nixpkgs' fixup here: it rewrites files in every output (strip, patchShebangs).
    # Stood in by making every file of every output read-only.
    local output
    for output in $outputs; do
        if [ -e "${!output}" ]; then chmod -R a-w "${!output}"; fi
    done
}
installCheckPhase() { :; }
distPhase() { :; }

runPhase() {
    local phase="$1"
    case "$phase" in
        checkPhase) [ -n "${doCheck:-}" ] || return 0 ;;
        installCheckPhase) [ -n "${doInstallCheck:-}" ] || return 0 ;;
        distPhase) [ -n "${doDist:-}" ] || return 0 ;;
        fixupPhase) [ -z "${dontFixup:-}" ] || return 0 ;;
    esac
    echo "stand-in stdenv: running $phase"
    if [ -n "${!phase:-}" ]; then eval "${!phase}"; else "$phase"; fi
    # unpackPhase chose the source root; the later phases run inside it.
    if [ "$phase" = unpackPhase ]; then cd "$sourceRoot"; fi
}

cd "$NIX_BUILD_TOP"
for phase in unpackPhase patchPhase configurePhase buildPhase checkPhase installPhase fixupPhase installCheckPhase distPhase ${postPhases:-}; do
    runPhase "$phase"
done
