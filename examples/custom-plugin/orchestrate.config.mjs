// The plugin is imported by path; published, it would be `import ninja from 'orchestrate-plugin-ninja'`.
import { defineConfig } from '@orchestrate/core';
import ninja from './plugin/index.mjs';

export default defineConfig({
  name: 'custom-plugin-example',
  plugins: [ninja()],
});
