import { describe, expect, it } from 'vitest';
import { describeBuildLog, parseCargoBuildLog } from './cargo-log.js';

describe('parseCargoBuildLog', () => {
  it('reads fresh packages, rustc invocations, build-script runs and dirty reasons', () => {
    const log = parseCargoBuildLog(
      [
        '       Fresh hello-leaf v0.1.0 (/w/crates/hello-leaf)',
        '       Dirty hello-gen v0.1.0 (/w/crates/hello-gen): the file `crates/hello-gen/data/greeting.txt` has changed (1.5s, 2s after last build at 1s)',
        '   Compiling hello-gen v0.1.0 (/w/crates/hello-gen)',
        '     Running `/w/target/debug/build/hello-gen-038b176cdcf463ac/build-script-build`',
        "     Running `CARGO=/c/cargo CARGO_CRATE_NAME=hello_gen /t/bin/rustc --crate-name hello_gen --edition=2021 crates/hello-gen/src/lib.rs`",
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
