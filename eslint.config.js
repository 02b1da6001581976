// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vue from 'eslint-plugin-vue';
import globals from 'globals';

/**
 * Layer by runtime, enforced: main/ never imports electron or renderer/; renderer/ never imports main/ or electron/;
 * shared/ imports nothing of ours but itself; agents/ may use shared/ protocol types only.
 */
const restrict = (patterns) => ['error', { patterns }];
const noElectron = { group: ['electron', 'electron/*'], message: 'main/ is plain Node: reach OS services through main/platform/port.ts' };
const noRenderer = { group: ['**/renderer/**', '@renderer/*'], message: 'main/ and electron/ must not import the renderer' };
const noMain = { group: ['**/main/**', '@main/*'], message: 'the renderer talks to the core only through the API client (shared/client.ts)' };
const noElectronDir = { group: ['**/electron/**'], message: 'only the Electron entry wires electron/' };

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'dist/**', 'release/**', 'bench/results/**', 'resources/**', 'e2e/.artifacts/**', 'test-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module' } },
  },
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'vue/multi-word-component-names': 'off',
      'vue/max-attributes-per-line': 'off',
      'vue/singleline-html-element-content-newline': 'off',
      'vue/html-self-closing': 'off',
      'vue/html-indent': 'off',
      'vue/html-closing-bracket-newline': 'off',
      'vue/multiline-html-element-content-newline': 'off',
    },
  },
  { files: ['main/**/*.ts'], rules: { 'no-restricted-imports': restrict([noElectron, noRenderer, noElectronDir]) } },
  { files: ['renderer/**/*.{ts,vue}'], languageOptions: { globals: { ...globals.browser } }, rules: { 'no-restricted-imports': restrict([noMain, noElectronDir, noElectron]) } },
  { files: ['shared/**/*.ts'], rules: { 'no-restricted-imports': restrict([noElectron, noRenderer, noMain, noElectronDir, { group: ['node:*'], message: 'shared/ runs in the renderer too: no Node built-ins' }]) } },
  { files: ['agents/**/*.ts'], rules: { 'no-restricted-imports': restrict([noElectron, noRenderer, noMain, noElectronDir]) } },
  { files: ['electron/**/*.ts'], rules: { 'no-restricted-imports': restrict([noRenderer]) } },
);
