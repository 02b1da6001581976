#!/usr/bin/env node
// `npm run bench` runs every benchmark in bench/; `npm run bench -- NAME` runs one. Prints one JSON line per result
// and a table, and writes bench/results/latest.json.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Recorder } from '../bench/lib.mjs';
import { buildIfStale } from './build-stamp.mjs';

const root = join(import.meta.dirname, '..');
const available = readdirSync(join(root, 'bench')).filter((f) => f.endsWith('.mjs') && f !== 'lib.mjs').map((f) => f.replace(/\.mjs$/, ''));
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !available.includes(w));
if (unknown.length) {
  console.error(`unknown benchmark ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}
if (!buildIfStale(root)) process.exit(1);
const rec = new Recorder();
for (const name of wanted.length ? wanted : available) {
  console.error(`== ${name}`);
  const mod = await import(join(root, 'bench', `${name}.mjs`));
  await mod.default(rec);
}
console.log('\n' + rec.table());
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(join(root, 'bench/results/latest.json'), JSON.stringify({ at: new Date().toISOString(), node: process.version, results: rec.results }, null, 2));
