# An overlay: pkgs.orchestrate (./package.nix) and pkgs.orchestrateCheckpointBuildTools
# (./default.nix on it: prepareCheckpointBuild, mkCheckpointBuild).
#
#   import <nixpkgs> { overlays = [ (import ./nix/overlay.nix) ]; }
final: prev: {
  orchestrate = final.callPackage ./package.nix { };
  orchestrateCheckpointBuildTools = import ./default.nix { orchestrate = final.orchestrate; };
}
