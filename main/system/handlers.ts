import { arch, platform } from 'node:os';
import type Database from 'better-sqlite3';
import type { system } from '@shared/contract/system';
import type { DomainHandlers } from '../api/handlers';
import type { TaskEngine } from '../tasks/engine';
import type { PlatformPort } from '../platform/port';

export function systemHandlers(d: {
  db: Database.Database;
  engine: TaskEngine;
  platform: PlatformPort;
  dataDir: string;
  version: string;
  schemaVersion: number;
  startedAt: Date;
  /** An opened inventory snapshot: changes are refused. */
  readOnly?: boolean;
}): DomainHandlers<typeof system> {
  const sqlite = (d.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  return {
    'system.info': () => ({
      name: 'Skydeck',
      version: d.version,
      mode: d.platform.kind,
      platform: platform(),
      arch: arch(),
      node: process.versions.node,
      electron: d.platform.electronVersion,
      sqlite,
      dataDir: d.dataDir,
      schemaVersion: d.schemaVersion,
      startedAt: d.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - d.startedAt.getTime()) / 1000),
      readOnly: d.readOnly ?? false,
    }),
    'system.backup': (input, ctx) => {
      const task = d.engine.submit('system.backup', input, { createdBy: ctx.actor, target: { kind: 'system', id: 'database', name: 'skydeck.db' } });
      return { taskId: task.id };
    },
  };
}
