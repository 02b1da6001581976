import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { openCore } from './core';
import { createLogger } from './log/logger';
import { defaultDataDir, kvmAssetsIn, resolveDataDir } from './paths';
import { HeadlessPlatform } from './platform/headless';
import { startHttpServer } from './server/http-server';
import { StartupError } from './db/open';
import { VERSION } from './version';
import { openSnapshotFile, openSnapshotInNewDataDir, SNAPSHOT_OPEN_FAILED, SnapshotError } from './reports/snapshot';

// Measured before anything else runs: everything imported above has loaded by now (ESM evaluates imports first).
const moduleLoadMs = performance.now();

/**
 * `npm run serve -- --port N --data-dir DIR`: the headless core, serving the built renderer and the API on loopback.
 * Prints the URL (with its one-time token) to open in a browser.
 */
const USAGE = `Usage: npm run serve -- [--port N] [--host 127.0.0.1] [--data-dir DIR] [--token TOKEN]
  --port       TCP port (default 7420; 0 picks a free one)
  --host       address to listen on (default 127.0.0.1; anything but loopback exposes your infrastructure)
  --data-dir   where the database lives (default: $SKYDECK_DATA_DIR or the OS app-data folder)
  --token      a fixed API token (default: a new random one each start; or $SKYDECK_TOKEN)
  --snapshot   open an inventory snapshot file (.sdsnap) read-only, in --data-dir (new or empty) or a new temporary one
Environment: SKYDECK_VAULT_PASSPHRASE unlocks the secret vault; SKYDECK_LOG_LEVEL=debug|info|warn|error.`;

/** Runs the headless server; `mainDir` is out/main (the entry's folder: the renderer and agent assets are beside it). */
export async function runServe(mainDir: string): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string', default: '7420' },
        host: { type: 'string', default: '127.0.0.1' },
        'data-dir': { type: 'string' },
        token: { type: 'string' },
        snapshot: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  const port = Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`--port must be an integer from 0 to 65535 (got ${args.port})\n`);
    return 2;
  }
  if (args.token !== undefined && !/^[A-Za-z0-9._~-]{16,256}$/.test(args.token)) {
    process.stderr.write('--token must be 16 to 256 URL-safe characters\n');
    return 2;
  }
  const logger = createLogger();
  let dataDir = resolve(resolveDataDir(process.argv, process.env) ?? defaultDataDir());
  if (args.snapshot) {
    // A snapshot opens in its own data directory, never in the workstation's own.
    try {
      const file = resolve(args.snapshot);
      let h;
      if (args['data-dir']) h = await openSnapshotFile(file, (dataDir = resolve(args['data-dir'])));
      else ({ dataDir, header: h } = await openSnapshotInNewDataDir(file));
      process.stdout.write(`Opened the inventory snapshot taken ${h.createdAt} on ${h.source.host} (read-only) in ${dataDir}\n`);
    } catch (e) {
      if (e instanceof SnapshotError) {
        process.stderr.write(`${SNAPSHOT_OPEN_FAILED}: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  }
  const platform = new HeadlessPlatform({ dataDir, logger, passphrase: process.env.SKYDECK_VAULT_PASSPHRASE });
  let core;
  try {
    // out/main/serve.js: the agent bundle and host runtimes are in out/agent and out/runtimes.
    core = await openCore({ dataDir, platform, logger, version: VERSION, kvmAssets: kvmAssetsIn(join(mainDir, '..')) });
  } catch (e) {
    if (e instanceof StartupError) {
      process.stderr.write(`Skydeck cannot start: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  platform.bus = core.events;
  let server;
  try {
    server = await startHttpServer({
      core,
      logger,
      version: VERSION,
      host: args.host,
      port,
      token: args.token ?? process.env.SKYDECK_TOKEN,
      staticDir: join(mainDir, '..', 'renderer'),
    });
  } catch (e) {
    await core.close();
    process.stderr.write(`Skydeck cannot listen on ${args.host}:${port}: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(`Skydeck ${VERSION} (headless) is ready. Data: ${dataDir}\nOpen ${server.url}\n`);
  if (process.env.SKYDECK_TIMINGS) {
    process.stdout.write(`timings ${JSON.stringify({ moduleLoadMs: Math.round(moduleLoadMs * 10) / 10, readyMs: Math.round(performance.now() * 10) / 10 })}\n`);
  }

  await new Promise<void>((done) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      void server
        .close()
        .then(() => core.close())
        .finally(done);
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
  return 0;
}
