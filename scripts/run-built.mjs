#!/usr/bin/env node
// `node scripts/run-built.mjs ENTRY [args…]` (behind `npm run serve` and `npm run seed`): builds the app when its sources
// changed since the last build, then runs out/main/ENTRY.js with the given arguments. Signals pass through so Ctrl+C
// stops it cleanly.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildIfStale } from './build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major] = process.versions.node.split('.').map(Number);
if (major < 22) {
  console.error(`Skydeck needs Node.js 22 or newer (this is ${process.version}). Run it through npm (npm run serve), which uses the Node 22 pinned in devDependencies.`);
  process.exit(1);
}
const [name, ...args] = process.argv.slice(2);
if (!name || !/^[a-z-]+$/.test(name)) {
  console.error('usage: node scripts/run-built.mjs ENTRY [args…]');
  process.exit(1);
}
if (!buildIfStale(root)) process.exit(1);
const entry = join(root, 'out', 'main', `${name}.js`);
if (!existsSync(entry)) {
  console.error(`${entry} is missing after the build`);
  process.exit(1);
}
const child = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
