// The linter's settings (`pnpm lint`). Formatting is prettier's (`pnpm format`): no rule here is
// about layout. Type-aware rules read the root tsconfig.json, the one `npx tsc -p .` checks.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const NODE_TEST_CALLS = { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] };

export default defineConfig(
  {
    ignores: ['**/node_modules/', '**/dist/', 'data/', '.bench/', '.tmp/'],
  },
  {
    linterOptions: {
      // An eslint-disable comment must name a rule that is on and silence a real report.
      reportUnusedDisableDirectives: 'error',
    },
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The code compiles with verbatimModuleSyntax: a name used only as a type is imported with
      // `import type` (or an inline `type` qualifier) so that nothing is loaded for it.
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // A promise nobody awaits loses its rejection: a failed write or push goes unnoticed.
      // node:test's test/describe return promises the runner itself waits for.
      '@typescript-eslint/no-floating-promises': ['error', { allowForKnownSafeCalls: [NODE_TEST_CALLS] }],
      // `_`-prefixed parameters and destructured leftovers are deliberate (interface signatures,
      // `{ secret: _, ...rest }`).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // Interfaces here declare callbacks in method form (`onProgress?(...)`) and callers pass
      // them on destructured: this rule reads every such hand-off as a lost `this`.
      '@typescript-eslint/unbound-method': 'off',
      // An async function without await is how an in-memory or synchronous store implements a
      // promise-returning interface: whatever it throws becomes a rejection, as callers expect.
      '@typescript-eslint/require-await': 'off',
      // Passing on a rejection or an abort reason as it came (typed unknown, or any as
      // AbortSignal.reason and events.once give it) is not inventing a non-Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `x != null` (null or undefined) is the one loose comparison worth its brevity.
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // Tests read JSON answers (`await response.json()`, typed any) and assert on them directly:
    // the assertion is the check a cast would only pretend to be.
    files: ['**/test/**/*.ts', 'test/**/*.ts', 'packages/test-support/**/*.ts'],
    rules: {
      // Also the suites' own wrappers of test() (`const it = serverTest(...)`), named it or test.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [NODE_TEST_CALLS, { from: 'file', name: ['it', 'test'] }] },
      ],
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // An assertion's message shows the values it compared, lists and flags included.
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowArray: true, allowBoolean: true, allowNumber: true, allowNullish: true },
      ],
    },
  },
  {
    // The web UI's own script runs in the browser, without a bundler.
    files: ['server/src/web/assets/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', window: 'readonly', navigator: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' },
    },
  },
);
