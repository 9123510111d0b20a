// ESLint for the whole repository: `npm run lint` (= `eslint --max-warnings 0 .`).
//
// Type-aware rules run through typescript-eslint's project service, which
// picks each file's nearest tsconfig.json (protocol/, sync-server/, web/, e2e/,
// and the root one for vite.config.ts and vitest.config.ts). Zero warnings are
// enforced, so only rules that find bugs are on; formatting is not linted.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default defineConfig(
  {
    name: 'parley/ignores',
    ignores: [
      '**/node_modules/',
      '**/dist/',
      'test-results/',
      'playwright-report/',
      'e2e/screenshots/',
      'e2e/.tmp/',
      'data/',
      '**/.vite/',
    ],
  },

  js.configs.recommended,
  ts.configs.recommendedTypeChecked,
  svelte.configs['flat/recommended'],

  {
    name: 'parley/typescript',
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: {
        // Every linted file belongs to a tsconfig (web/scripts has its own), so
        // no file falls back to a default project.
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // STYLE.md: "floating promises are errors", "no `any` at a boundary".
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // A few bug-finders from `strictTypeChecked` that do not nag about style.
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-confusing-void-expression': 'off',
      '@typescript-eslint/no-deprecated': 'error',
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      eqeqeq: ['error', 'smart'],
    },
  },

  {
    // Svelte components and rune modules: the Svelte parser, with TypeScript inside.
    name: 'parley/svelte',
    files: ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'],
    languageOptions: {
      parserOptions: {
        parser: ts.parser,
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        extraFileExtensions: ['.svelte'],
      },
    },
    rules: {
      // SvelteKit-only (asks for `resolve()` from `$app/paths`); Parley is a plain Svelte app.
      'svelte/no-navigation-without-resolve': 'off',
    },
  },
  {
    // In a rune module this rule reports every Map, Set or Date built anywhere
    // inside an exported class, including plain lookup tables in a query that
    // are never state; in components it still catches mutated collections.
    name: 'parley/svelte-modules',
    files: ['**/*.svelte.ts', '**/*.svelte.js'],
    rules: { 'svelte/prefer-svelte-reactivity': 'off' },
  },

  {
    name: 'parley/web-globals',
    files: ['web/**/*.{ts,js,svelte}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    name: 'parley/service-worker-globals',
    files: ['web/src/sw.ts'],
    languageOptions: { globals: { ...globals.serviceworker } },
  },

  {
    // Playwright fixtures must destructure their first argument, even when empty.
    name: 'parley/e2e',
    files: ['e2e/**/*.ts'],
    rules: { 'no-empty-pattern': ['error', { allowObjectPatternsAsParameters: true }] },
  },

  {
    // Plain JavaScript (this file) is in no tsconfig: lint it without types.
    name: 'parley/javascript',
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [ts.configs.disableTypeChecked],
  },
);
