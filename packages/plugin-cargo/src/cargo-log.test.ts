import { describe, expect, it } from 'vitest';
import { describeBuildLog, parseCargoBuildLog, parseRustcInvocations, tryParseDirty } from './cargo-log.js';

describe('parseCargoBuildLog', () => {
  it('reads fresh packages, rustc invocations, build-script runs and dirty reasons', () => {
    const log = parseCargoBuildLog(
      [
        '       Fresh hello-leaf v0.1.0 (/w/crates/hello-leaf)',
        '       Dirty hello-gen v0.1.0 (/w/crates/hello-gen): the file `crates/hello-gen/data/greeting.txt` has changed (1.5s, 2s after last build at 1s)',
        '   Compiling hello-gen v0.1.0 (/w/crates/hello-gen)',
        '     Running `/w/target/debug/build/hello-gen-038b176cdcf463ac/build-script-build`',
        '     Running `CARGO=/c/cargo CARGO_CRATE_NAME=hello_gen /t/bin/rustc --crate-name hello_gen --edition=2021 crates/hello-gen/src/lib.rs`',
        '     Running `/wrap /t/bin/rustc --crate-name hello --edition=2021 crates/hello-cli/src/main.rs`',
        '\u001b[1m\u001b[32m    Finished\u001b[0m `dev` profile',
      ].join('\n'),
    );
    expect(log).toEqual({
      fresh: ['hello-leaf'],
      compiling: ['hello-gen'],
      rustc: ['hello_gen', 'hello'],
      scripts: ['hello-gen-038b176cdcf463ac'],
      dirty: [expect.stringMatching(/^hello-gen v0.1.0 .*has changed/)],
    });
    expect(describeBuildLog(log)).toBe(
      '2 rustc invocation(s) (hello_gen, hello); build scripts run: hello-gen-038b176cdcf463ac; 1 package(s) fresh',
    );
  });
});

describe('parseRustcInvocations and tryParseDirty', () => {
  it('reads the crate, its type and root of each rustc line, and the package of a Dirty line', () => {
    const stderr = [
      '     Running `/w/rustc-wrapper /r/rustc --crate-name hello_leaf --edition=2021 crates/hello-leaf/src/lib.rs --crate-type lib --emit=dep-info,metadata,link`',
      '     Running `/r/rustc --crate-name hello --edition=2021 src/main.rs --emit=link`',
      '       Dirty hello-leaf v0.1.0 (/w/crates/hello-leaf): the file `crates/hello-leaf/src/lib.rs` has changed (1.5s, 1s after last build at 0.5s)',
    ].join('\n');
    expect(parseRustcInvocations(stderr)).toEqual([
      { crateName: 'hello_leaf', crateType: 'lib', source: 'crates/hello-leaf/src/lib.rs' },
      { crateName: 'hello', crateType: 'bin', source: 'src/main.rs' },
    ]);
    expect(tryParseDirty(parseCargoBuildLog(stderr).dirty[0] ?? '')).toEqual({
      package: 'hello-leaf',
      reason: 'the file `crates/hello-leaf/src/lib.rs` has changed (1.5s, 1s after last build at 0.5s)',
    });
  });
});
