import { join } from 'node:path';
import { buildIfStale } from '../scripts/build-stamp.mjs';

/** The e2e suite runs the built app: build it first if a source changed. */
export default function globalSetup(): void {
  if (!buildIfStale(join(import.meta.dirname, '..'))) throw new Error('electron-vite build failed');
}
