import { execFileSync } from 'node:child_process';
import type Database from 'better-sqlite3';
import { seedInventory } from '../seed/seed';
import type { Core } from '../core';
import type { Task } from '@shared/contract/tasks';

/** Test helpers for reports: a realistic small inventory, calls as the UI makes them, and reading files back. */
export const SEED_AT = new Date('2026-11-20T08:00:00.000Z');

/**
 * The seed's synthetic inventory (projects, zones, clouds, networks, tags) plus rows a report must survive: a project
 * and a guest with Chinese names, and text with commas, quotes, line breaks and a leading "=".
 */
export function reportFixture(db: Database.Database, o: { hosts?: number; guests?: number } = {}): void {
  seedInventory(db, { hosts: o.hosts ?? 30, guests: o.guests ?? 300, seed: 7, at: SEED_AT });
  const t = '2026-10-01T00:00:00.000Z';
  const host = (db.prepare(`SELECT id, zone_id FROM hosts WHERE provider = 'kvm' ORDER BY name LIMIT 1`).get() as { id: string; zone_id: string }) ?? null;
  db.prepare(`INSERT INTO projects (id, name, provider, status, created_at, updated_at, description) VALUES ('p-zh', '数据平台', 'local', 'active', ?, ?, '中文项目')`).run(t, t);
  const g = db.prepare(
    `INSERT INTO guests (id, name, provider, status, created_at, updated_at, host_id, project_id, zone_id, vcpu, memory_mb, disk_gb, os, ips)
     VALUES (?, ?, 'kvm', 'running', ?, ?, ?, 'p-zh', ?, ?, ?, ?, ?, ?)`,
  );
  g.run('g-zh', '报表测试机', t, t, host.id, host.zone_id, 4, 8192, 100, 'Debian 12, "bookworm"\nLTS', '10.99.0.5 10.99.0.6');
  g.run('g-eq', '=cmd', t, t, host.id, host.zone_id, 1, 1024, 10, 'Alpine', '');
  db.prepare(`INSERT INTO tags (kind, resource_id, key, value, source) VALUES ('guest', 'g-zh', 'team', '数据', 'user'), ('guest', 'g-zh', 'env', 'prod', 'user')`).run();
}

export async function call<T = any>(core: Core, name: string, input: unknown = {}): Promise<T> {
  return (await core.dispatch(name, input, { actor: 'test', transport: 'internal' })) as T;
}

export async function runTask(core: Core & { engine: { waitFor(id: string, ms?: number): Promise<Task> } }, name: string, input: unknown, timeoutMs = 60_000): Promise<Task> {
  const { taskId } = await call<{ taskId: string }>(core, name, input);
  return core.engine.waitFor(taskId, timeoutMs);
}

/** An RFC 4180 parser (quoted fields, doubled quotes, CRLF records), independent of the writer. */
export function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i += 2;
      } else if (c === '"') {
        quoted = false;
        i++;
      } else {
        field += c;
        i++;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      out.push(row);
      row = [];
      field = '';
      i += 2;
    } else if (c === '\n') {
      throw new Error(`bare LF at ${i}: records must end with CRLF`);
    } else {
      field += c;
      i++;
    }
  }
  if (field !== '' || row.length) throw new Error('the last record does not end with CRLF');
  return out;
}

export function pdfText(file: string): string {
  return execFileSync('pdftotext', ['-layout', '-enc', 'UTF-8', file, '-'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}
