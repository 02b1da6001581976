// Builds the Skydeck host agent (agents/kvm) into one CommonJS file that runs on the KVM host with Node >= 18, and
// writes its sha256 beside it: the app compares that digest with the installed agent's to know when to upgrade it.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * @param {{ outFile?: string; version?: string }} [options]
 * @returns {Promise<{ outFile: string; sha256: string; bytes: number; ms: number }>}
 */
export async function buildAgent({ outFile = 'out/agent/skydeck-agent.cjs', version } = {}) {
  const started = performance.now();
  const out = isAbsolute(outFile) ? outFile : join(root, outFile);
  const agentVersion = version ?? JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
  mkdirSync(dirname(out), { recursive: true });
  const result = await build({
    entryPoints: [join(root, 'agents/kvm/main.ts')],
    outfile: out,
    bundle: true,
    // The protocol types and constants shared with main/ (the same alias as the rest of the project).
    alias: { '@shared': join(root, 'shared') },
    platform: 'node',
    format: 'cjs',
    // Hosts may run an older Node than the one Skydeck ships (a distribution's nodejs package).
    target: 'node18',
    minifySyntax: true,
    minifyWhitespace: false,
    minifyIdentifiers: false,
    legalComments: 'none',
    sourcemap: false,
    write: false,
    logLevel: 'silent',
    banner: { js: '#!/usr/bin/env node' },
    define: { __AGENT_VERSION__: JSON.stringify(agentVersion) },
  });
  const file = result.outputFiles[0];
  if (!file) throw new Error('esbuild produced no output');
  writeFileSync(out, file.contents, { mode: 0o755 });
  const sha256 = createHash('sha256').update(file.contents).digest('hex');
  writeFileSync(`${out}.sha256`, `${sha256}\n`);
  return { outFile: out, sha256, bytes: file.contents.length, ms: Math.round(performance.now() - started) };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const r = await buildAgent({ outFile: process.argv[2] });
  console.log(`agent: ${r.outFile} (${(r.bytes / 1024).toFixed(0)} KiB, sha256 ${r.sha256.slice(0, 12)}…, ${r.ms} ms)`);
}
