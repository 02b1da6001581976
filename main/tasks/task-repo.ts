import type Database from 'better-sqlite3';
import type { Task, TaskDetail, TaskStageEntry, TaskStatus } from '@shared/contract/tasks';
import type { ListQuery, ListResult } from '@shared/list';
import { runList, type ListSpec } from '../db/list-query';

export interface TaskRow {
  id: string;
  type: string;
  target_kind: string | null;
  target_id: string | null;
  target_name: string | null;
  status: TaskStatus;
  stage: string;
  progress: number;
  message: string;
  params: string;
  result: string | null;
  error: string | null;
  attempts: number;
  parent_id: string | null;
  concurrency_key: string | null;
  created_by: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  updated_at: string;
}

export function rowToTask(r: TaskRow): Task {
  return {
    id: r.id,
    type: r.type,
    target: r.target_kind && r.target_id ? { kind: r.target_kind, id: r.target_id, ...(r.target_name ? { name: r.target_name } : {}) } : null,
    status: r.status,
    stage: r.stage,
    progress: r.progress,
    message: r.message,
    params: JSON.parse(r.params) as Record<string, unknown>,
    result: r.result === null ? null : (JSON.parse(r.result) as unknown),
    error: r.error === null ? null : (JSON.parse(r.error) as Task['error']),
    attempts: r.attempts,
    parentId: r.parent_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    updatedAt: r.updated_at,
  };
}

const spec: ListSpec<TaskRow> = {
  from: 'tasks',
  fields: {
    id: 'id',
    type: 'type',
    status: 'status',
    stage: 'stage',
    progress: 'progress',
    target_kind: 'target_kind',
    target_id: 'target_id',
    parent_id: 'parent_id',
    created_by: 'created_by',
    created_at: 'created_at',
    started_at: 'started_at',
    finished_at: 'finished_at',
    updated_at: 'updated_at',
  },
  defaultSort: '-created_at',
  tiebreak: 'rowid',
  search: { like: ['type', 'target_name', 'target_id', 'message', 'id'] },
  mapRow: rowToTask,
};

export class TaskRepo {
  private readonly getStmt;
  constructor(readonly db: Database.Database) {
    this.getStmt = db.prepare('SELECT * FROM tasks WHERE id = ?');
  }

  get(id: string): Task | undefined {
    const r = this.getStmt.get(id) as TaskRow | undefined;
    return r && rowToTask(r);
  }

  detail(id: string): TaskDetail | undefined {
    const t = this.get(id);
    if (!t) return undefined;
    const history = this.db
      .prepare('SELECT stage, status, message, at FROM task_stages WHERE task_id = ? ORDER BY id')
      .all(id) as TaskStageEntry[];
    return { ...t, history };
  }

  list(q: ListQuery): ListResult<Task> {
    return runList<TaskRow, Task>(this.db, spec, q);
  }

  rows(where: string, ...args: unknown[]): TaskRow[] {
    return this.db.prepare(`SELECT * FROM tasks WHERE ${where}`).all(...args) as TaskRow[];
  }

  prune(olderThan: string): number {
    return this.db
      .prepare(`DELETE FROM tasks WHERE finished_at IS NOT NULL AND finished_at < ? AND parent_id IS NULL`)
      .run(olderThan).changes;
  }
}
