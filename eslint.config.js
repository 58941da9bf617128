import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The engine's layers (README, Architecture): what each folder may import from the others. Anything else is a
// back-edge and fails lint. `core` is shared by all and imports nothing; `cli.ts` sits on top and may use everything.
// An entry is a folder (`core`) or one file in it (`load/yaml.ts`); node_modules and node: are always allowed.
export const LAYERS = {
  core: [],
  pki: ['core'],
  connection: ['core'],
  jinja: ['core'],
  vars: ['core', 'jinja'],
  report: ['core'],
  modules: ['core', 'connection', 'pki', 'vars', 'jinja', 'home.ts'],
  load: ['core', 'vars', 'jinja', 'modules/contract.ts', 'modules/registry.ts', 'home.ts'],
  inventory: ['core'],
  run: ['core', 'connection', 'modules', 'vars', 'jinja', 'load', 'inventory'],
};

/** One no-restricted-imports block per folder: every `../x` is refused unless listed above. */
const layerRules = Object.entries(LAYERS).map(([folder, allowed]) => ({
  files: [`engine/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            // `../x/...` where x is not allowed, and anything further up (`../../`).
            regex: `^\\.\\./(?!${allowed.map((a) => (a.endsWith('.ts') ? `${a.replaceAll('.', '\\.')}$` : `${a}/`)).join('|') || '$^'})`,
            message: `engine/${folder}/ may import only from ${allowed.length ? allowed.join(', ') : 'itself'} (layers: eslint.config.js, README Architecture).`,
          },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/**', '.tap/**', 'test/lab/.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  ...layerRules,
  {
    files: ['bin/**/*.js', 'eslint.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
