# shellcheck shell=bash
# orchestrate's checkpoint phases for Nix builders, sourced by nix/default.nix.
#
# Environment (set by the derivation):
#   orchestrateCommand     how to run orchestrate ("<store path>/bin/orchestrate", or "node <checkout>/…/bin.cjs")
#   orchestrateProject     the project name (--name): never a path, so it does not depend on the unpack
#   orchestrateCheckpoint  the previous checkpoint output (mkCheckpointBuild only)
#
# A checkpoint output:
#   <out>/store/checkpoints/<project-key>/<id>.json   its one manifest
#   <out>/store/objects/<ab>/<sha256>                  the blobs no earlier layer holds
#   <out>/layers                                       earlier layers' store directories, nearest first
#                                                      (their paths are references, so Nix keeps them)
#   <out>/project                                      the project name

orchestrateStore="$NIX_BUILD_TOP/.orchestrate-store"
orchestrateReport="$NIX_BUILD_TOP/.orchestrate-report.json"

_orchestrate() {
    # Word-split on purpose: the command may be "node /path/bin.cjs".
    # shellcheck disable=SC2086
    $orchestrateCommand "$@"
}

# The read-only layers below the build's own store: the checkpoint's store, then its layers.
_orchestrateLayers() {
    [ -n "${orchestrateCheckpoint:-}" ] || return 0
    echo "$orchestrateCheckpoint/store"
    if [ -f "$orchestrateCheckpoint/layers" ]; then cat "$orchestrateCheckpoint/layers"; fi
}

# Runs `orchestrate <command>` with the build's own store on top of the checkpoint's layers.
orchestrateRun() {
    local command="$1"
    # Reproducible checkpoints: createdAt from SOURCE_DATE_EPOCH (stdenv sets it; 1980 like stdenv otherwise),
    # recorded times flat (the default in a Nix build, said here for readers).
    export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-315532800}"
    export ORCHESTRATE_TIMES="${ORCHESTRATE_TIMES:-flat}"
    mkdir -p "$orchestrateStore"
    local -a layerArgs=()
    local layer
    local help
    help=$(_orchestrate --help 2>/dev/null || true)
    if grep -q -- '--store-from-in-place' <<<"$help"; then
        # Read in place: the layers stay where they are, verified as they are read; the new
        # checkpoint names their blobs and the build's own store gets only what is new.
        while read -r layer; do layerArgs+=(--store-from "$layer"); done < <(_orchestrateLayers)
        if [ ${#layerArgs[@]} -gt 0 ]; then layerArgs+=(--store-from-in-place); fi
    else
        # This orchestrate has no read-only store layers: copy the layers' blobs into the
        # build's own store (writable modes), and the checkpoint's one manifest.
        local first=1
        while read -r layer; do
            echo "orchestrate: copying checkpoint layer $layer (this orchestrate cannot read it in place)"
            if [ -d "$layer/objects" ]; then mkdir -p "$orchestrateStore/objects" && cp -r --no-preserve=mode "$layer/objects/." "$orchestrateStore/objects/"; fi
            if [ "$first" = 1 ] && [ -d "$layer/checkpoints" ]; then cp -r --no-preserve=mode "$layer/checkpoints" "$orchestrateStore/"; fi
            first=0
        done < <(_orchestrateLayers)
    fi
    echo "orchestrate: $command of project '$orchestrateProject' in $PWD"
    _orchestrate "$command" --report "$orchestrateReport" --store "$orchestrateStore" --name "$orchestrateProject" "${layerArgs[@]}"
}

# Copies the checkpoint just saved into `$1`: its manifest, the blobs no layer holds, the layer list.
orchestrateExportCheckpoint() {
    local to="$1" id manifest blob rel layer found
    id=$(grep -o '"saved":"[0-9a-f]*"' "$orchestrateReport" | cut -d'"' -f4) || true
    if [ -z "$id" ]; then
        echo "orchestrate: no checkpoint was saved (report: $(cat "$orchestrateReport"))" >&2
        return 1
    fi
    manifest=$(find "$orchestrateStore/checkpoints" -name "$id.json" -print -quit)
    rel="${manifest#"$orchestrateStore"/}"
    mkdir -p "$to/store/$(dirname "$rel")" "$to/store/objects"
    cp "$manifest" "$to/store/$rel"
    # Every blob of the build's store that no layer holds: what this build added.
    (cd "$orchestrateStore" && find objects -type f -name '[0-9a-f]*' | LC_ALL=C sort) | while read -r blob; do
        found=
        while read -r layer; do
            if [ -e "$layer/$blob" ]; then found=1; break; fi
        done < <(_orchestrateLayers)
        if [ -z "$found" ]; then
            mkdir -p "$to/store/$(dirname "$blob")"
            cp "$orchestrateStore/$blob" "$to/store/$blob"
        fi
    done
    _orchestrateLayers > "$to/layers"
    printf '%s\n' "$orchestrateProject" > "$to/project"
}
