// ESLint: JavaScript's and typescript-eslint's recommended rules, the
// type-aware ones included, and React's rules of hooks with the React
// Compiler's checks that eslint-plugin-react-hooks 7 adds to them.
//
// Types come from the TypeScript 6 API (the `typescript` alias in
// package.json): typescript-eslint cannot load TypeScript 7, whose package
// has the compiler (`tsc`, what `npm run typecheck` runs) but no JS API.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

// ApiError is plain data by design: it crosses the transport as JSON and
// Wails rejections, and callers and tests compare it field by field.
const apiError = { from: 'file', name: 'ApiError', path: 'src/transport/types.ts' };

export default defineConfig([
  globalIgnores(['dist/', 'node_modules/', 'wailsjs/']),
  // a disable comment that no longer disables anything is an error too
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    extends: [tseslint.configs.recommendedTypeChecked, reactHooks.configs.flat.recommended],
    languageOptions: {
      parserOptions: { project: ['./tsconfig.json', './e2e/tsconfig.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      '@typescript-eslint/only-throw-error': ['error', { allow: [apiError] }],
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allow: [apiError] }],
      // a leading _ names a parameter kept for its position or its type
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // the UI benchmark: a Node script, parts of which run in the page
    files: ['bench/**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process', 'URL', 'setTimeout', 'clearTimeout', 'window', 'document', 'innerWidth', 'innerHeight',
          'addEventListener', 'requestAnimationFrame', 'MutationObserver', 'PerformanceObserver',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.test.{ts,tsx}'],
    rules: {
      // tests play the node and the transports, which reject with ApiError
      // data; their fakes build it as literals, not as the ApiError type
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      // expect(fake.method) hands a mock to expect; nothing calls it unbound
      '@typescript-eslint/unbound-method': 'off',
      // `await act(async () => ...)` with no await inside is how Testing
      // Library waits for the updates that a settled promise causes
      '@typescript-eslint/require-await': 'off',
    },
  },
]);
