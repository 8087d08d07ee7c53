# orchestrate for Nix: nixpkgs' checkpointBuildTools (prepareCheckpointBuild,
# mkCheckpointBuild), with the same names and semantics, built on orchestrate.
#
#   let
#     checkpointBuildTools = import ./nix { orchestrate = pkgs.orchestrate; };
#     checkpoint = checkpointBuildTools.prepareCheckpointBuild pkgs.hello;
#     changed = pkgs.hello.overrideAttrs (old: { src = ./my-hello-tree; });
#   in checkpointBuildTools.mkCheckpointBuild changed checkpoint
#
# Works on derivations made by stdenv.mkDerivation (through overrideAttrs; it
# uses phases, runHook, outputs and postPhases only). The project's sources
# carry an orchestrate config that names the build-system plugin
# (@orchestrate/plugin-make, -cmake or -cargo); the derivation's buildPhase is
# replaced by `orchestrate build`, which runs the tool as that plugin says.
# See nix/README.md.
{
  # orchestrate itself: a derivation with bin/orchestrate (./package.nix), or a
  # string with the command that runs it (e.g. "node /src/orchestrate/packages/core/dist/bundle/cli/bin.cjs",
  # reachable in the sandbox through extra-sandbox-paths).
  orchestrate,
}:
let
  orchestrateCommand = if builtins.isString orchestrate then orchestrate else "${orchestrate}/bin/orchestrate";

  # The project name of a derivation: its pname, else its name without the version. Never a path.
  projectOf = drv: drv.pname or (builtins.parseDrvName drv.name).name;

  phases = ./checkpoint-build.sh;
in
rec {
  inherit orchestrateCommand;

  /**
    A derivation whose one output, `out`, is a checkpoint of `drv`'s build:
    `drv` built in full by `orchestrate prepare` and the state it left, as
    an orchestrate store (see checkpoint-build.sh for the layout). Like
    nixpkgs', it installs nothing of `drv` and runs no fixup.
  */
  prepareCheckpointBuild =
    drv:
    drv.overrideAttrs (old: {
      name = "${drv.name}-checkpointArtifacts";
      outputs = [ "out" ];
      inherit orchestrateCommand;
      orchestrateProject = projectOf drv;
      buildPhase = ''
        runHook preBuild
        source ${phases}
        orchestrateRun prepare
        runHook postBuild
      '';
      installPhase = ''
        runHook preCheckpointInstall
        orchestrateExportCheckpoint "$out"
        runHook postCheckpointInstall
      '';
      dontFixup = true;
      doInstallCheck = false;
      doDist = false;
    });

  /**
    `drv`'s outputs, built incrementally from `checkpoint` (a
    prepareCheckpointBuild or an earlier mkCheckpointBuild's `checkpoint`
    output), plus an output `checkpoint` holding the next rolling checkpoint:
    its manifest and the blobs the earlier layers lack; the earlier ones are
    read in place (read-only store layers) and referenced, not copied.
  */
  mkCheckpointBuild =
    drv: checkpoint:
    drv.overrideAttrs (old: {
      outputs = (old.outputs or [ "out" ]) ++ [ "checkpoint" ];
      inherit orchestrateCommand;
      orchestrateCheckpoint = checkpoint;
      # The checkpoint's own name wins: it is the one its manifest was saved under.
      orchestrateProject = projectOf drv;
      buildPhase = ''
        runHook preBuild
        source ${phases}
        if [ -f "$orchestrateCheckpoint/project" ]; then orchestrateProject=$(cat "$orchestrateCheckpoint/project"); fi
        orchestrateRun build
        runHook postBuild
      '';
      # After fixup, which must not strip or patch the blobs (their names are their hashes).
      postPhases = (old.postPhases or [ ]) ++ [ "orchestrateCheckpointPhase" ];
      orchestrateCheckpointPhase = ''
        source ${phases}
        orchestrateExportCheckpoint "$checkpoint"
      '';
    });
}
