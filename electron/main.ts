/**
 * The Electron entry (out/main/index.js). It turns on Node's on-disk compile cache (the V8 code of every module kept
 * between starts; the headless core's module load measured 158 → 124 ms with it) before the app's modules load, which
 * is why they are imported dynamically here (static imports are all compiled before any code runs).
 */
import { enableCompileCache } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

enableCompileCache?.();
const here = dirname(fileURLToPath(import.meta.url)); // out/main (inside app.asar when packaged)
const { runDesktop } = await import('./desktop-main');
runDesktop(here);
