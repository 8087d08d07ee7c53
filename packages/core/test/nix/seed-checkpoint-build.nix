# The seed's mechanism (nixpkgs' checkpointBuildTools, pkgs/build-support/
# checkpoint-build.nix; see /work/shared/BUILD-TOOLS.md §3), re-stated for the
# stand-in stdenv with the host's rsync, diff, patch and mktemp. Only for the
# side-by-side comparison with nix/default.nix on the same edits (nix.test.ts):
#
#   prepare: before the build, copy `./*` to $out/sources; install = copy `./*` to $out/outputs.
#   build:   diff -ur old sources against the new tree into a patch, wipe the tree
#            (dotglob), rsync the old outputs back (checksums, times, made writable),
#            apply the patch, then the normal build.
#
# rsync's `--chown=$USER:$USER` is left out: the sandbox's build user owns every file anyway.
{ }:
{
  prepareCheckpointBuild =
    drv:
    drv.overrideAttrs (old: {
      outputs = [ "out" ];
      name = drv.name + "-checkpointArtifacts";
      preBuild = (old.preBuild or "") + ''
        mkdir -p $out/sources
        cp -r ./* $out/sources/
      '';
      installPhase = ''
        runHook preCheckpointInstall
        mkdir -p $out/outputs
        cp -r ./* $out/outputs/
        runHook postCheckpointInstall
        unset postPhases
      '';
      dontFixup = true;
      doInstallCheck = false;
      doDist = false;
    });

  mkCheckpointBuild =
    drv: checkpointArtifacts:
    drv.overrideAttrs (old: {
      preBuild = (old.preBuild or "") + ''
        set +e
        seedPatch=$(mktemp)
        diff -ur ${checkpointArtifacts}/sources ./ > "$seedPatch"
        set -e
        shopt -s dotglob
        rm -r *
        rsync --checksum --times --atimes --chmod=+w -r ${checkpointArtifacts}/outputs/ .
        patch -p 1 -i "$seedPatch"
        rm "$seedPatch"
      '';
    });
}
