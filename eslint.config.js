// ESLint flat config: type-aware rules for the TypeScript packages and their tests,
// the recommended JavaScript rules for the scripts, the benchmark and the examples.
// Formatting is Prettier's: eslint-config-prettier turns off the rules it owns.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['**/dist/', '**/node_modules/', '**/.orchestrate-tmp/', 'bench/.work/', '**/target/', '**/build/'],
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // The packages' build configs hold their sources; tsconfig.tests.json holds the tests they exclude.
        project: ['./packages/*/tsconfig.json', './tsconfig.tests.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // A leading underscore marks a deliberately unused binding: a parameter kept for its position, a property dropped from a rest copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Hook taps (tapPromise) and store methods are async by contract even without an await: a throw then rejects instead of escaping.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['packages/*/test/**/*.ts', '**/*.test.ts'],
    rules: {
      // Tests read the CLI's --json report and hand-edited (hostile) manifests as loose JSON: the expect() is the check.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  prettier,
);
