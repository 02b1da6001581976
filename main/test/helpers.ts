import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCore } from '../core';
import { createLogger, type Logger } from '../log/logger';
import { HeadlessPlatform } from '../platform/headless';
import { startHttpServer, type RunningServer } from '../server/http-server';
import type { ComputeDriver } from '../drivers/types';

export function tempDir(prefix = 'skydeck-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Collects log lines so tests can check what was (and was not) logged. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', sink: (l) => lines.push(l) }), lines };
}

export async function testCore(dataDir: string, logger = memoryLogger().logger, drivers: ComputeDriver[] = []) {
  const platform = new HeadlessPlatform({ dataDir, logger, passphrase: 'test passphrase' });
  const core = await openCore({ dataDir, platform, logger, version: '0.1.0-test', drivers });
  platform.bus = core.events;
  return core;
}

/** A real core behind a real HTTP server on 127.0.0.1, as `npm run serve` runs it. */
export async function testServer(opts: { staticDir?: string; maxBodyBytes?: number; drivers?: ComputeDriver[] } = {}) {
  const dir = tempDir();
  const { logger, lines } = memoryLogger();
  const { drivers, ...serverOpts } = opts;
  const core = await testCore(dir.path, logger, drivers);
  const server: RunningServer = await startHttpServer({ core, logger, version: '0.1.0-test', port: 0, ...serverOpts });
  const base = `http://127.0.0.1:${server.port}`;
  const call = async (command: string, body?: unknown, init: RequestInit = {}) => {
    const res = await fetch(`${base}/api/v1/${command}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json', ...(init.headers as Record<string, string>) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      ...Object.fromEntries(Object.entries(init).filter(([k]) => k !== 'headers')),
    });
    return { status: res.status, body: (await res.json()) as any, headers: res.headers };
  };
  return {
    core,
    server,
    base,
    call,
    lines,
    dataDir: dir.path,
    async close() {
      await server.close();
      await core.close();
      dir.cleanup();
    },
  };
}

/** A deterministic pseudo-random sequence (xorshift32): the next unsigned 32-bit value at each call, the same on every run. */
export function xorshift(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
