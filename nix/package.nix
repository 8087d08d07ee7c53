# orchestrate packaged for Nix, the way nixpkgs packages pnpm workspaces
# (buildNpmPackage's pnpm counterpart: pnpm.fetchDeps + pnpm.configHook).
#
#   orchestrate = pkgs.callPackage ./nix/package.nix { };
#
# NOT BUILT ON orchestrate's CI: the test machines have no nixpkgs and no
# network beyond the npm registry. What to fill in on first use:
#   - `pnpmDeps.hash`: build once with lib.fakeHash, then paste the hash Nix prints;
#   - `pnpm`: the package.json pins pnpm 12.4.2 (packageManager); use the nixpkgs
#     pnpm whose major version reads pnpm-lock.yaml (lockfileVersion in its first line).
{
  lib,
  stdenv,
  nodejs_20,
  pnpm,
  makeWrapper,
}:
stdenv.mkDerivation (finalAttrs: {
  pname = "orchestrate";
  version = (lib.importJSON ../packages/core/package.json).version;

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../package.json
      ../pnpm-lock.yaml
      ../pnpm-workspace.yaml
      ../tsconfig.base.json
      ../tsconfig.json
      ../packages
    ];
  };

  pnpmDeps = pnpm.fetchDeps {
    inherit (finalAttrs) pname version src;
    hash = lib.fakeHash;
  };

  nativeBuildInputs = [
    nodejs_20
    pnpm.configHook
    makeWrapper
  ];

  # tsc, the bundles (core.cjs, cli/bin.cjs, the plugins') and the native time helper.
  buildPhase = ''
    runHook preBuild
    pnpm build
    runHook postBuild
  '';

  # The workspace as it runs from a checkout: the CLI resolves the plugins
  # (@orchestrate/plugin-make, -cmake, -cargo) from its own node_modules.
  installPhase = ''
    runHook preInstall
    mkdir -p $out/lib/orchestrate $out/bin
    pnpm prune --prod --ignore-scripts || true
    cp -r package.json node_modules packages $out/lib/orchestrate/
    makeWrapper ${nodejs_20}/bin/node $out/bin/orchestrate \
      --add-flags $out/lib/orchestrate/packages/core/dist/bundle/cli/bin.cjs
    runHook postInstall
  '';

  meta = {
    description = "Checkpoint builds for make, CMake and Cargo: restore the last build, rebuild only what changed";
    license = lib.licenses.mit;
    mainProgram = "orchestrate";
    platforms = lib.platforms.linux;
  };
})
