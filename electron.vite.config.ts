import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import vue from '@vitejs/plugin-vue';

const alias = { '@shared': resolve(__dirname, 'shared') };

/**
 * One build for both ways to run the core: out/main/index.js is the Electron entry, out/main/serve.js the headless
 * server; both bundle main/ and shared/. Packages in "dependencies" (better-sqlite3, ws, zod) stay external.
 */
export default defineConfig({
  main: {
    resolve: { alias },
    build: {
      target: 'node22',
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'electron/main.ts'),
          serve: resolve(__dirname, 'main/serve.ts'),
        },
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      rollupOptions: {
        input: { index: resolve(__dirname, 'electron/preload.ts') },
        // A sandboxed preload cannot load ES modules: emit one CommonJS file.
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'renderer'),
    resolve: { alias },
    plugins: [vue()],
    build: {
      target: 'es2022',
      rollupOptions: { input: { index: resolve(__dirname, 'renderer/index.html') } },
    },
  },
});
