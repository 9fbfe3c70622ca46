// ESLint: typescript-eslint with type information over src/, test/ and scripts/ (`npm run lint`).
// The rules that matter most in an async tool that must not lose a write are errors everywhere:
// a promise nobody awaits (a write whose failure is never seen) and a promise handed to something
// that ignores it (an async callback on an event emitter or in `forEach`). Layout is Prettier's job,
// so no stylistic rule is on here.
import tseslint from 'typescript-eslint';

/** node:test's test/describe return promises the runner itself tracks: awaiting them at top level is not the idiom. */
const nodeTestCalls = { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] };

export default tseslint.config(
  { ignores: ['dist/', 'output/', 'node_modules/', 'docs/', 'coverage/'] },
  {
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    extends: [tseslint.configs.recommendedTypeChecked],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    languageOptions: {
      // One program for src/, test/ and scripts/ (tsconfig.check.json), so tests are linted against the real types of src/.
      parserOptions: { project: ['./tsconfig.check.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The two this config exists for.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true, allowForKnownSafeCalls: [nodeTestCalls] }],
      '@typescript-eslint/no-misused-promises': 'error',
      // Also real findings in this code base, kept as errors: a rejected or thrown non-Error loses its stack and our
      // error codes; an `await` of a non-promise usually means a missing call; a silently fallen-through switch.
      '@typescript-eslint/only-throw-error': 'error',
      // A caught `unknown` passed on as is keeps its identity (and its code); a literal or a plain object is still an error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `_` marks a parameter kept for its position (an interface method, a callback signature).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      // Core rules typescript-eslint's recommended set does not bring (we do not depend on @eslint/js).
      'no-constant-binary-expression': 'error',
      'no-self-compare': 'error',
      'no-unsafe-finally': 'error',
      'no-debugger': 'error',
      'no-dupe-else-if': 'error',
      'no-unreachable': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // Off, with the reason:
      // - require-await: an `async` function without `await` is how a function promises to always return a promise
      //   (a throw becomes a rejection, which callers handle); kind modules and test stubs implement async interfaces.
      '@typescript-eslint/require-await': 'off',
      // - unbound-method: flags `const { x } = object` of methods that never use `this` (node:assert's `assert.strict`,
      //   our plain-object interfaces); a real unbound `this` is a TypeError on the first test that reaches it.
      '@typescript-eslint/unbound-method': 'off',
      // - no-base-to-string: fires only on `String(v)` of untyped argv values (`Argv = Record<string, unknown>`, narrowed
      //   to `{}`), where yargs and smol-toml give scalars and the string lands in a usage message. Turn it back on
      //   once the parsed-argv type is derived from the options table (issue 15).
      '@typescript-eslint/no-base-to-string': 'off',
    },
  },
  {
    // Tests: JSON.parse of CLI output and of journal lines is `any` by nature and then asserted on field by field;
    // typing every probe would add casts, not safety. The promise rules above stay errors in tests.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // scripts/*.mjs are plain JavaScript (bench, demo, postbuild): without type annotations every value read from
    // JSON or a child process is `any`, so the no-unsafe-* rules would flag every line. The promise rules still run
    // (the types of Node's own APIs are known), which is what matters in scripts that spawn and wait.
    files: ['scripts/**/*.mjs', 'deploy/**/*.mjs', 'eslint.config.js'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
