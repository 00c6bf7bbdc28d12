// Lint rules that keep the architecture honest: type-aware TypeScript checks, and import
// boundaries (apps never import other apps; only the compute app reaches SSH and libvirt).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const apps = ['api', 'scheduler', 'compute', 'console-proxy', 'event-store', 'ops'];

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
    // SSH and libvirt belong to the compute agent alone.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['apps/compute/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'ssh2', message: 'Only apps/compute may drive hosts over SSH.' }] },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Jest's asymmetric matchers are typed `any`, and handlers in tests are often trivially async.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
