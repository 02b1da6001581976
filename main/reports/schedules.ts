import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ApiError } from '@shared/errors';
import { nextCronRun, parseCron } from '@shared/cron';
import type { Cadence, Schedule, ScheduleInput } from '@shared/contract/reports';
import type { Logger } from '../log/logger';
import type { Task } from '@shared/contract/tasks';
import type { MailMessage } from '../notify/smtp';
import { checkFolder, type RunParams } from './run-task';
import { labels } from './labels';

/**
 * Report schedules: each is due at its next_run_at; while the app runs, a timer set for the earliest one (at most a
 * minute ahead, so that clock changes are caught) submits a `reports.run` task that writes into the schedule's folder.
 * At start, a schedule whose time passed while the app was closed runs once ('missed'), however many times it was
 * missed, and its next time is counted from then. A schedule with recipients mails each run's file, once the run
 * succeeded, through the SMTP server set up for alerts; the outcome is kept on the schedule (the file stays either way).
 */
export function cadenceCron(c: Cadence): string {
  if (c.kind === 'cron') return c.expression;
  const [h, m] = c.time.split(':').map(Number);
  if (c.kind === 'daily') return `${m} ${h} * * *`;
  if (c.kind === 'weekly') return `${m} ${h} * * ${c.weekday}`;
  return `${m} ${h} ${c.day} * *`;
}

export function nextRun(c: Cadence, after: Date): Date | null {
  return nextCronRun(parseCron(cadenceCron(c)), after);
}

interface Row {
  id: string;
  name: string;
  report: string;
  format: Schedule['format'];
  locale: Schedule['locale'];
  bom: number;
  cadence: string;
  folder: string;
  enabled: number;
  created_at: string;
  updated_at: string;
  last_run_at: string | null;
  next_run_at: string | null;
  last_task_id: string | null;
  last_trigger: Schedule['lastTrigger'];
  task_status: Schedule['lastStatus'];
  task_result: string | null;
  task_error: string | null;
  recipients: string;
  delivery_status: 'sending' | 'sent' | 'failed' | null;
  delivery_error: string | null;
  delivery_at: string | null;
}

export type ScheduleView = Schedule;

function toSchedule(r: Row): ScheduleView {
  let lastFile: string | null = null;
  let lastError: string | null = null;
  try {
    lastFile = r.task_result ? ((JSON.parse(r.task_result) as { path?: string }).path ?? null) : null;
    lastError = r.task_error ? ((JSON.parse(r.task_error) as { message?: string }).message ?? null) : null;
  } catch {
    // a task row from another version: leave the details out
  }
  return {
    id: r.id,
    name: r.name,
    report: JSON.parse(r.report) as Schedule['report'],
    format: r.format,
    locale: r.locale,
    bom: r.bom === 1,
    cadence: JSON.parse(r.cadence) as Cadence,
    folder: r.folder,
    enabled: r.enabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastRunAt: r.last_run_at,
    nextRunAt: r.next_run_at,
    lastTaskId: r.last_task_id,
    lastTrigger: r.last_trigger,
    lastStatus: r.task_status,
    lastFile,
    lastError,
    recipients: JSON.parse(r.recipients) as string[],
    lastDelivery: r.delivery_status && r.delivery_at ? { status: r.delivery_status, error: r.delivery_error, at: r.delivery_at } : null,
  };
}

export interface SchedulerOptions {
  db: Database.Database;
  logger: Logger;
  /** Submits the report task; answers the task. */
  submit(params: RunParams, createdBy: string): Task;
  now?: () => Date;
  /** The longest the timer sleeps before it looks again (default one minute). */
  maxSleepMs?: number;
  /** Whether SMTP is set up (a schedule with recipients is refused without it). */
  smtpReady?: () => boolean;
  /** Sends one mail through the configured SMTP server; throws when it could not. */
  mail?: (msg: MailMessage) => Promise<void>;
  /** Calls the listener on each task update; answers how to stop. */
  watchTasks?: (listener: (task: Task) => void) => () => void;
}

function recipientsIssue(field: string): ApiError {
  const message = 'e-mail is not set up: set the SMTP server under Monitoring → Alerts → Channels (alerts.setChannels) first';
  return new ApiError('validation', `${field}: ${message}`, { issues: [{ path: field, message, code: 'smtp_not_configured' }] });
}

export class ReportScheduler {
  private timer: NodeJS.Timeout | null = null;
  private unwatch: (() => void) | null = null;
  private readonly mailing = new Set<Promise<void>>();
  private started = false;
  private readonly log: Logger;
  private readonly now: () => Date;

  constructor(private readonly o: SchedulerOptions) {
    this.log = o.logger.scope('reports');
    this.now = o.now ?? (() => new Date());
  }

  private select(where = '', ...args: unknown[]): ScheduleView[] {
    return (
      this.o.db
        .prepare(
          `SELECT s.*, t.status AS task_status, t.result AS task_result, t.error AS task_error
             FROM report_schedules s LEFT JOIN tasks t ON t.id = s.last_task_id ${where} ORDER BY s.name`,
        )
        .all(...args) as Row[]
    ).map(toSchedule);
  }

  list(): ScheduleView[] {
    return this.select();
  }

  get(id: string): ScheduleView {
    const s = this.select('WHERE s.id = ?', id)[0];
    if (!s) throw new ApiError('not_found', `report schedule ${id} does not exist`, { id });
    return s;
  }

  create(input: ScheduleInput): ScheduleView {
    checkFolder(input.folder, 'folder');
    const recipients = input.recipients ?? [];
    if (recipients.length > 0 && !this.o.smtpReady?.()) throw recipientsIssue('recipients');
    const id = randomUUID();
    const t = this.now().toISOString();
    const next = input.enabled ? nextRun(input.cadence, this.now())?.toISOString() ?? null : null;
    try {
      this.o.db
        .prepare(
          `INSERT INTO report_schedules (id, name, report, format, locale, bom, cadence, folder, enabled, created_at, updated_at, next_run_at, recipients)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, input.name, JSON.stringify(input.report), input.format, input.locale, input.bom ? 1 : 0, JSON.stringify(input.cadence), input.folder, input.enabled ? 1 : 0, t, t, next, JSON.stringify(recipients));
    } catch (e) {
      if (/UNIQUE/.test((e as Error).message)) throw new ApiError('conflict', `a report schedule named ${input.name} already exists`, { field: 'name' });
      throw e;
    }
    this.arm();
    return this.get(id);
  }

  update(id: string, patch: Partial<ScheduleInput>): ScheduleView {
    const cur = this.get(id);
    if (patch.folder !== undefined) checkFolder(patch.folder, 'patch.folder');
    if (patch.recipients !== undefined && patch.recipients.length > 0 && !this.o.smtpReady?.()) throw recipientsIssue('patch.recipients');
    const merged = { ...cur, ...patch };
    const cadenceChanged = patch.cadence !== undefined || (patch.enabled === true && !cur.enabled);
    const next = !merged.enabled ? null : cadenceChanged || !cur.nextRunAt ? (nextRun(merged.cadence, this.now())?.toISOString() ?? null) : cur.nextRunAt;
    try {
      this.o.db
        .prepare(
          `UPDATE report_schedules SET name = ?, report = ?, format = ?, locale = ?, bom = ?, cadence = ?, folder = ?, enabled = ?, updated_at = ?, next_run_at = ?, recipients = ? WHERE id = ?`,
        )
        .run(merged.name, JSON.stringify(merged.report), merged.format, merged.locale, merged.bom ? 1 : 0, JSON.stringify(merged.cadence), merged.folder, merged.enabled ? 1 : 0, this.now().toISOString(), next, JSON.stringify(merged.recipients), id);
    } catch (e) {
      if (/UNIQUE/.test((e as Error).message)) throw new ApiError('conflict', `a report schedule named ${merged.name} already exists`, { field: 'patch.name' });
      throw e;
    }
    this.arm();
    return this.get(id);
  }

  delete(id: string): void {
    if (this.o.db.prepare('DELETE FROM report_schedules WHERE id = ?').run(id).changes === 0) throw new ApiError('not_found', `report schedule ${id} does not exist`, { id });
    this.arm();
  }

  /** Submits the schedule's report now; a manual run leaves its next time as it was. */
  runNow(id: string, actor: string): Task {
    return this.trigger(this.get(id), 'manual', actor);
  }

  private trigger(s: ScheduleView, kind: 'schedule' | 'missed' | 'manual', actor = 'scheduler'): Task {
    const at = this.now();
    const task = this.o.submit({ report: s.report, format: s.format, locale: s.locale, bom: s.bom, folder: s.folder, scheduleId: s.id, fileName: `${s.name.replace(/[^\p{L}\p{N}._-]+/gu, '-')}-${at.toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-')}` }, actor);
    const next = kind === 'manual' ? s.nextRunAt : s.enabled ? (nextRun(s.cadence, at)?.toISOString() ?? null) : null;
    this.o.db.prepare('UPDATE report_schedules SET last_run_at = ?, last_task_id = ?, last_trigger = ?, next_run_at = ? WHERE id = ?').run(at.toISOString(), task.id, kind, next, s.id);
    this.log.info('report schedule ran', { schedule: s.id, name: s.name, trigger: kind, task: task.id, next });
    return task;
  }

  /** Runs what is due: at start, what came due while the app was closed (once each); later, what is due now. */
  private runDue(kind: 'schedule' | 'missed'): void {
    const now = this.now().toISOString();
    for (const s of this.select('WHERE s.enabled = 1 AND s.next_run_at IS NOT NULL AND s.next_run_at <= ?', now)) {
      try {
        this.trigger(s, kind);
      } catch (e) {
        this.log.error('report schedule could not start', { schedule: s.id, error: e });
        // Try again at its next time rather than every tick.
        const next = nextRun(s.cadence, this.now())?.toISOString() ?? null;
        this.o.db.prepare('UPDATE report_schedules SET next_run_at = ? WHERE id = ?').run(next, s.id);
      }
    }
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.unwatch = this.o.watchTasks?.((t) => this.onTask(t)) ?? null;
    // A mail cut off by the app closing is not retried (the file is in its folder): say so rather than 'sending' forever.
    this.o.db
      .prepare(`UPDATE report_schedules SET delivery_status = 'failed', delivery_error = 'Skydeck closed while the mail was being sent', delivery_at = ? WHERE delivery_status = 'sending'`)
      .run(this.now().toISOString());
    this.runDue('missed');
    this.arm();
  }

  /** Sleeps until the earliest schedule is due (at most maxSleepMs), then runs what is due. */
  private arm(): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    const row = this.o.db.prepare('SELECT min(next_run_at) AS next FROM report_schedules WHERE enabled = 1 AND next_run_at IS NOT NULL').get() as { next: string | null };
    const max = this.o.maxSleepMs ?? 60_000;
    const wait = row.next ? Math.min(max, Math.max(0, Date.parse(row.next) - this.now().getTime())) : max;
    this.timer = setTimeout(() => {
      this.timer = null;
      try {
        this.runDue('schedule');
      } finally {
        this.arm();
      }
    }, wait);
    this.timer.unref();
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.unwatch?.();
    this.unwatch = null;
  }

  /** Resolves when every mail being sent has been sent or has failed. */
  async idle(): Promise<void> {
    while (this.mailing.size > 0) await Promise.allSettled([...this.mailing]);
  }

  /** A schedule's run succeeded: mails its file to the schedule's recipients, once per run. */
  private onTask(t: Task): void {
    if (t.type !== 'reports.run' || t.status !== 'succeeded') return;
    const scheduleId = typeof t.params.scheduleId === 'string' ? t.params.scheduleId : null;
    if (!scheduleId || !this.o.mail) return;
    const at = this.now().toISOString();
    // Claim the run (a task update may come more than once); a schedule without recipients is left alone.
    const claimed = this.o.db
      .prepare(
        `UPDATE report_schedules SET delivery_status = 'sending', delivery_error = NULL, delivery_at = ?, delivery_task_id = ?
          WHERE id = ? AND recipients <> '[]' AND (delivery_task_id IS NULL OR delivery_task_id <> ?)`,
      )
      .run(at, t.id, scheduleId, t.id).changes;
    if (claimed === 0) return;
    const p = this.deliver(scheduleId, t).finally(() => this.mailing.delete(p));
    this.mailing.add(p);
  }

  private async deliver(scheduleId: string, t: Task): Promise<void> {
    const setStatus = (status: 'sent' | 'failed', error: string | null) => {
      try {
        this.o.db.prepare('UPDATE report_schedules SET delivery_status = ?, delivery_error = ?, delivery_at = ? WHERE id = ? AND delivery_task_id = ?').run(status, error, this.now().toISOString(), scheduleId, t.id);
      } catch (e) {
        // The app closed (or the schedule went) while the mail was on its way.
        this.log.warn('report mail outcome not recorded', { schedule: scheduleId, task: t.id, status, error: e });
      }
    };
    try {
      const s = this.get(scheduleId);
      const result = t.result as { file?: string; path?: string; rows?: number } | null;
      if (!result?.path || !result.file) throw new Error('the run wrote no file');
      const runAt = typeof t.params.at === 'string' ? t.params.at : (t.finishedAt ?? this.now().toISOString());
      const date = runAt.slice(0, 10);
      const title = labels(s.locale).title[s.report.type];
      const zh = s.locale === 'zh-CN';
      await this.o.mail!({
        to: s.recipients,
        subject: `${title} — ${date}`,
        text: zh
          ? `附件是报表计划“${s.name}”于 ${date} 生成的${title}（${s.format.toUpperCase()}，${result.rows ?? 0} 行）：${result.file}。\n该文件也已保存到 ${s.folder}。\n\n—— Skydeck`
          : `Attached is the ${title.toLowerCase()} written by the report schedule "${s.name}" on ${date} (${s.format.toUpperCase()}, ${result.rows ?? 0} rows): ${result.file}.\nThe file is also kept in ${s.folder}.\n\n— Skydeck`,
        attachments: [{ filename: result.file, path: result.path }],
      });
      setStatus('sent', null);
      this.log.info('report mailed', { schedule: scheduleId, task: t.id, to: s.recipients.length });
    } catch (e) {
      const err = e as Error & { cause?: { message?: string } };
      const error = err.cause?.message ? `${err.message}: ${err.cause.message}` : err.message;
      setStatus('failed', error);
      this.log.warn('report mail failed', { schedule: scheduleId, task: t.id, error });
    }
  }
}
