// Lint rules that keep the architecture honest: type-aware TypeScript checks, and import
// boundaries (apps never import other apps; only libs/host-ssh imports ssh2, and only the compute
// agent and the console proxy use that library).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const apps = ['api', 'scheduler', 'compute', 'console-proxy', 'event-store', 'ops'];

// Tests and benchmarks: code that drives the system from outside, with the looser rules below.
const testFiles = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'bench/**/*.ts'];

// Regexes on the import specifier, so a relative path into the library is caught as well as its alias.
const ssh2Import = {
  regex: '^ssh2(/.*)?$',
  message: 'Only libs/host-ssh imports ssh2; use #libs/host-ssh.',
};
const hostSshImport = {
  regex: '(^#libs/host-ssh(/.*)?$)|((^|/)libs/host-ssh(/|$))',
  message: 'Only apps/compute (virsh, SFTP) and apps/console-proxy (VNC tunnels) reach hosts over SSH.',
};

const appBoundaries = apps.map((app) => ({
  target: `./apps/${app}`,
  from: './apps',
  except: [`./${app}`],
  message: 'Apps never import each other; move shared code to libs/.',
}));

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', '.nimbus/', 'node_modules/', '**/*.js', '**/*.cjs', '**/*.mjs'] },
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...appBoundaries,
            { target: './libs', from: './apps', message: 'Libraries never import apps.' },
          ],
        },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Contract classes are data holders validated at the boundaries (build/decode), so a plain
      // object of the same shape is a legitimate value of their type.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
      '@typescript-eslint/no-extraneous-class': ['error', { allowWithDecorator: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // SSH to hosts: everything outside the two apps that need it (and their tests) stays off it.
    files: ['**/*.ts'],
    ignores: ['libs/host-ssh/**', 'apps/compute/**', 'apps/console-proxy/**', ...testFiles],
    rules: { 'no-restricted-imports': ['error', { patterns: [ssh2Import, hostSshImport] }] },
  },
  {
    // The compute agent, the console proxy and tests reach hosts through libs/host-ssh, never ssh2.
    files: ['apps/compute/**/*.ts', 'apps/console-proxy/**/*.ts', ...testFiles],
    ignores: ['libs/host-ssh/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ssh2Import] }] },
  },
  {
    files: testFiles,
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Jest's asymmetric matchers are typed `any`, and handlers in tests are often trivially async.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
