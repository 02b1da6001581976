import type Database from 'better-sqlite3';
import type { AuditEntry } from '@shared/contract/audit';
import type { ListQuery, ListResult } from '@shared/list';
import { runList, type ListSpec } from '../db/list-query';

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  params: string;
  result: 'ok' | 'error';
  error_code: string | null;
  message: string | null;
  duration_ms: number;
}

const spec: ListSpec<AuditRow> = {
  from: 'audit_log',
  fields: { id: 'id', at: 'at', actor: 'actor', action: 'action', target: 'target', result: 'result', error_code: 'error_code', duration_ms: 'duration_ms' },
  defaultSort: '-at',
  tiebreak: 'id',
  search: { fts: 'audit_fts', rowid: 'id' },
  mapRow: (r): AuditEntry => ({
    id: r.id,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    params: JSON.parse(r.params) as Record<string, unknown>,
    result: r.result,
    errorCode: r.error_code,
    message: r.message,
    durationMs: r.duration_ms,
  }),
};

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export class AuditRepo {
  private readonly insert;

  constructor(private readonly db: Database.Database) {
    this.insert = db.prepare(
      `INSERT INTO audit_log (at, actor, action, target, params, result, error_code, message, duration_ms)
       VALUES (@at, @actor, @action, @target, @params, @result, @errorCode, @message, @durationMs)`,
    );
  }

  record(e: NewAuditEntry): number {
    return Number(this.insert.run({ ...e, params: JSON.stringify(e.params) }).lastInsertRowid);
  }

  list(q: ListQuery): ListResult<AuditEntry> {
    return runList<AuditRow, AuditEntry>(this.db, spec, q);
  }

  prune(olderThan: string): number {
    return this.db.prepare('DELETE FROM audit_log WHERE at < ?').run(olderThan).changes;
  }
}
