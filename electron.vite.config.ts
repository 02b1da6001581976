import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

import pkg from './package.json' with { type: 'json' };

const alias = { '@shared': resolve(import.meta.dirname, 'shared') };
const define = { __SKYDECK_VERSION__: JSON.stringify(pkg.version) };

/**
 * One build for both ways to run the core: out/main/index.js is the Electron entry, out/main/serve.js the headless
 * server; both bundle main/ and shared/. Packages in "dependencies" (better-sqlite3, ws, zod) stay external.
 */
export default defineConfig({
  main: {
    resolve: { alias },
    define,
    build: {
      target: 'node22',
      rollupOptions: {
        input: {
          index: resolve(import.meta.dirname, 'electron/main.ts'),
          serve: resolve(import.meta.dirname, 'main/serve.ts'),
          seed: resolve(import.meta.dirname, 'main/seed/cli.ts'),
          'bench-entry': resolve(import.meta.dirname, 'main/bench/entry.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      rollupOptions: {
        input: { index: resolve(import.meta.dirname, 'electron/preload.ts') },
        // A sandboxed preload cannot load ES modules: emit one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    resolve: { alias },
    plugins: [vue()],
    build: {
      target: 'es2022',
      minify: true,
      rollupOptions: { input: { index: resolve(import.meta.dirname, 'renderer/index.html') } },
    },
  },
});
