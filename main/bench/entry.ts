/**
 * What the benchmarks in bench/ need from the core, built as out/main/bench-entry.js (bench/*.mjs are plain Node and
 * import the built code, as the app runs it). Not loaded by the app itself.
 */
export { openDatabase, DB_FILE } from '../db/open';
export { TaskEngine } from '../tasks/engine';
export type { TaskType } from '../tasks/types';
export { EventBus } from '../events/bus';
export { createLogger } from '../log/logger';
export { upsertPage, markVanished, markUnreachable, markReachable } from '../inventory/sync';
export { runList, ftsQuery } from '../db/list-query';
export { SPECS } from '../inventory/specs';
export { inventorySummary } from '../inventory/summary';
export { SEED_VERSION, ORIGIN_KEY } from '../seed/seed';
export { VERSION } from '../version';
export { connectSsh, probeHostKey, SSH_CIPHERS } from '../hosts/ssh/session';
export { openCore } from '../core';
export { HeadlessPlatform } from '../platform/headless';
export { kvmAssetsIn } from '../paths';
export { schedule, forecast, releaseReservation } from '../scheduler';
