# A stand-in for nixpkgs' stdenv.mkDerivation, for tests on machines without
# nixpkgs: builtins.derivation with the host's tools (reachable through the
# sandbox's extra-sandbox-paths), keeping the interface nix/default.nix uses:
# pname/version/name, src (a directory), outputs, the phases and their
# pre/post hooks with runHook, postPhases, dont* flags, SOURCE_DATE_EPOCH and
# overrideAttrs in both of its forms (`old: { … }`, `final: prev: { … }`).
{
  system ? builtins.currentSystem,
  # Extra environment for every derivation (the tests pass a per-run nonce, so nothing comes from a cache).
  extraEnv ? { },
}:
let
  mkDerivation =
    attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      env = removeAttrs attrs [ "passthru" ];
      drv = builtins.derivation (
        extraEnv
        // env
        // {
          inherit name system;
          builder = "/bin/bash";
          args = [
            "-e"
            ./setup.sh
          ];
          outputs = attrs.outputs or [ "out" ];
          PATH = "/usr/bin:/bin";
          SOURCE_DATE_EPOCH = attrs.SOURCE_DATE_EPOCH or "315532800";
        }
      );
      outputsOf = builtins.listToAttrs (
        map (output: {
          name = output;
          value = drv.${output};
        }) (attrs.outputs or [ "out" ])
      );
    in
    drv
    // outputsOf
    // {
      inherit name;
      pname = attrs.pname or (builtins.parseDrvName name).name;
      overrideAttrs =
        f:
        let
          applied = f attrs;
          # `final: prev:` returns a function after one argument; this stand-in has no fixpoint, so final = prev.
          change = if builtins.isFunction applied then applied attrs else applied;
        in
        mkDerivation (attrs // change);
      passthru = attrs.passthru or { };
    };
in
{
  inherit mkDerivation;
}
