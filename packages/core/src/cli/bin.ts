#!/usr/bin/env node
/** The `orchestrate` executable (`dist/bundle/cli/bin.cjs`): see `startup.ts` for how it loads the CLI. */
import { join } from 'node:path';
import { startCli } from './startup.js';

void startCli(join(__dirname, '..', 'core.cjs'));
