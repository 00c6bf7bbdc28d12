// Lint rules that keep the architecture honest: type-aware TypeScript checks, and import
// boundaries: apps never import other apps; the libs form layers (contracts at the bottom, the pure
// domain on contracts alone, the store and bus clients never on the domain); nothing reaches into
// another lib's files past its entry point; only libs/host-ssh imports ssh2, and only the compute
// agent and the console proxy use that library.
import { readdirSync } from 'node:fs';

import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const apps = ['api', 'scheduler', 'compute', 'console-proxy', 'event-store', 'ops', 'audit'];

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

// Every lib, read from the tree so a new one is covered at once, and for some the libs of ours they
// may import (a lib not listed in libLayers may import any lib).
const libs = readdirSync(new URL('./libs', import.meta.url), { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);
const libLayers = [
  { lib: 'contracts', may: [], why: 'libs/contracts is the bottom layer: it imports nothing of ours.' },
  { lib: 'concurrency', may: [], why: 'libs/concurrency is plain promises: it imports nothing of ours.' },
  { lib: 'telemetry', may: [], why: 'libs/telemetry wraps OpenTelemetry: it imports nothing of ours.' },
  { lib: 'domain', may: ['contracts'], why: 'libs/domain is pure: of ours it imports only libs/contracts.' },
  { lib: 'audit', may: ['contracts'], why: 'libs/audit is pure: of ours it imports only libs/contracts.' },
  {
    lib: 'bus',
    may: libs.filter((other) => other !== 'domain' && other !== 'bus'),
    why: 'The bus carries events; it never imports the domain.',
  },
  {
    lib: 'event-store',
    may: libs.filter((other) => other !== 'domain' && other !== 'event-store'),
    why: 'The store client folds with reducers it is given; it never imports the domain.',
  },
];
// The layers bind a lib's own code; its int tests (libs/<name>/test) may exercise it with others.
const layerZones = libLayers.map(({ lib, may, why }) => ({
  target: `./libs/${lib}/src`,
  from: './libs',
  except: [`./${lib}`, ...may.map((other) => `./${other}`)],
  message: why,
}));

// A lib is reached through its entry point (#libs/<name>, and #libs/domain/testing for specs), never
// by a path into its files: resolved paths are checked, so relative paths are caught as well.
const entryPointZones = libs.map((lib) => ({
  target: [
    './apps',
    './test',
    './bench',
    './deploy',
    ...libs.filter((other) => other !== lib).map((other) => `./libs/${other}`),
  ],
  from: `./libs/${lib}/src`,
  except: ['./index.ts', './testing/index.ts'],
  message: `Import #libs/${lib}, not a file inside it.`,
}));

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
            ...layerZones,
            ...entryPointZones,
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
    // The domain is pure: no Nest, no store or bus client, no Node I/O; of other packages only pure
    // ones named here (ipaddr.js parses addresses). Specs and their helpers may use Node (random ids),
    // but still only the contracts of ours (the zones above).
    files: ['libs/domain/src/**/*.ts'],
    ignores: ['libs/domain/src/testing/**', ...testFiles],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!#libs/contracts$|ipaddr\\.js$|\\.{1,2}/)',
              message:
                'libs/domain imports only #libs/contracts, pure ipaddr.js and its own files: no Nest, no I/O, no clients.',
            },
          ],
        },
      ],
    },
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
