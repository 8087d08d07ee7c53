/**
 * Tests run against the TypeScript sources: vitest resolves the workspace
 * packages under the "@orchestrate/source" export condition (vitest.config.ts),
 * so a plugin under test and the test itself share the core's source modules,
 * and an edit of the core is seen without `pnpm build`.
 */
import * as core from '@orchestrate/core';
import * as testing from '@orchestrate/core/testing';
import cargo from '@orchestrate/plugin-cargo';
import cmake from '@orchestrate/plugin-cmake';
import make from '@orchestrate/plugin-make';
import { describe, expect, it } from 'vitest';
import { cargo as cargoSource } from '../../plugin-cargo/src/plugin.js';
import { cmake as cmakeSource } from '../../plugin-cmake/src/plugin.js';
import { make as makeSource } from '../../plugin-make/src/plugin.js';
import { runProcess } from '../src/process.js';
import { tempDir } from '../src/testing/index.js';

describe('in tests, the workspace packages resolve to their sources', () => {
  it('@orchestrate/core is the module graph of src/, not the bundle', () => {
    expect(core.runProcess).toBe(runProcess);
  });

  it('@orchestrate/core/testing is src/testing/', () => {
    expect(testing.tempDir).toBe(tempDir);
  });

  it('each plugin package is its src/', () => {
    expect([make, cmake, cargo]).toEqual([makeSource, cmakeSource, cargoSource]);
  });
});
