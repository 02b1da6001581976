import type Database from 'better-sqlite3';
import { ApiError, fieldError as invalidField, type FieldIssue } from '@shared/errors';
import { schedRequestSchema, type Forecast, type Placement, type SchedFilter, type SchedRequest, type SchedRequestInput, type SchedStrategy } from '@shared/contract/scheduler';
import { run, type RunResult } from './core';
import { loadSnapshot } from './snapshot';
import { isLiveTask, purgeReservations, writeReservation } from './reservations';
import { plural } from './format';

/**
 * The scheduler's entry point: `schedule(db, request, options)` checks, places the whole batch and writes its
 * reservations in ONE immediate write transaction, so two concurrent calls can never book the same capacity; with
 * `dryRun` it only answers the forecast (nothing is written). See ScheduleOptions for binding to a task.
 */

export interface ScheduleOptions {
  /** Answer the forecast and would-be placements; reserve nothing, throw nothing for blockers (they are in the forecast). */
  dryRun?: boolean;
  /** The task that creates the guests, when it already exists (queued or running): the reservation ends when it ends. */
  taskId?: string;
  /**
   * The ids the guests will have (guestIds[i] for placements[i]); must be count long. Lets each host reservation stop
   * counting as soon as its guest row is on the host (the triggers count it from then on), puts the guests in the
   * instance group, and lets the reservation of an address end once the guest holds one in that network.
   */
  guestIds?: readonly string[];
  /** Who asked (recorded with the reservation). */
  actor?: string;
  /** A reservation bound to no task lapses after this long (default 600 s). */
  ttlSeconds?: number;
  /** The strategy when the request names none (the setting; default spread). */
  defaultStrategy?: SchedStrategy;
  /** Hosts listed in the answered forecast (default all). Errors carry at most 200. */
  forecastLimit?: number;
  now?: Date;
}

export interface ScheduleResult {
  /** null for a dry run. */
  reservationId: string | null;
  /** When an unbound reservation lapses; null when bound to a task or for a dry run. */
  expiresAt: string | null;
  placements: Placement[];
  forecast: Forecast;
}

const ERROR_HOSTS = 200;
/** The scheduler's own field errors carry code `custom` (its zod issues carry zod's codes). */
const fieldError = (path: string, message: string, code = 'custom') => invalidField(path, message, code);

/** Parses (and defaults) a request; a bad one is a validation error naming each field. */
export function parseRequest(input: SchedRequestInput | SchedRequest): SchedRequest {
  const r = schedRequestSchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message, code: i.code }));
  throw new ApiError('validation', issues.map((i) => `${i.path || 'request'}: ${i.message}`).join('; '), { issues });
}

export function schedule(db: Database.Database, input: SchedRequestInput | SchedRequest, o: ScheduleOptions = {}): ScheduleResult {
  const req = parseRequest(input);
  if (o.guestIds && o.guestIds.length !== req.count) throw fieldError('guestIds', `${plural(o.guestIds.length, 'guest id')} for a count of ${req.count}`);
  const strategy = req.strategy ?? o.defaultStrategy ?? 'spread';
  const now = o.now ?? new Date();
  const nowIso = now.toISOString();
  const body = (): ScheduleResult => {
    if (!o.dryRun) {
      purgeReservations(db, nowIso);
      if (o.taskId && !isLiveTask(db, o.taskId)) throw fieldError('taskId', `task ${o.taskId} is not queued or running`);
    }
    const snap = loadSnapshot(db, req, nowIso);
    const r = run(snap, req, { strategy, ...(o.forecastLimit !== undefined ? { limit: o.forecastLimit } : {}) });
    if (o.dryRun) return { reservationId: null, expiresAt: null, placements: r.placements, forecast: r.forecast };
    refuse(r, req);
    const w = writeReservation(db, { req, placements: r.placements, guestIds: o.guestIds, taskId: o.taskId ?? null, actor: o.actor ?? 'system', now, ttlSeconds: o.ttlSeconds ?? 600 });
    return { reservationId: w.id, expiresAt: w.expiresAt, placements: r.placements, forecast: r.forecast };
  };
  return o.dryRun ? db.transaction(body).deferred() : db.transaction(body).immediate();
}

/** The dry run: every host with its score or its rejections, and where the batch would go. Never writes. */
export function forecast(db: Database.Database, input: SchedRequestInput | SchedRequest, o: Omit<ScheduleOptions, 'dryRun' | 'taskId' | 'guestIds' | 'ttlSeconds'> = {}): Forecast {
  return schedule(db, input, { ...o, dryRun: true }).forecast;
}

/** The forecast carried by an error: at most ERROR_HOSTS hosts (the requested host first). */
function errorForecast(f: Forecast, req: SchedRequest): Forecast {
  let hosts = f.hosts;
  if (req.hostId) {
    const i = hosts.findIndex((h) => h.hostId === req.hostId);
    if (i > 0) hosts = [hosts[i]!, ...hosts.slice(0, i), ...hosts.slice(i + 1)];
  }
  return hosts.length <= ERROR_HOSTS ? { ...f, hosts } : { ...f, hosts: hosts.slice(0, ERROR_HOSTS), truncated: true };
}

/** Which input field a host rejection is about, for an error on a requested host. */
const FIELD: Record<SchedFilter, string> = {
  host: 'hostId',
  zone: 'zoneId',
  status: 'hostId',
  hypervisor: 'hypervisor',
  cpu: 'vcpu',
  memory: 'memoryMb',
  storage: 'disks',
  network: 'networks',
  image: 'imageId',
  tags: 'tags',
  group: 'instanceGroupId',
  quota: 'projectId',
};
const CAPACITY = new Set<SchedFilter>(['cpu', 'memory', 'storage', 'network']);

function byFilterText(f: Forecast): string {
  return Object.entries(f.byFilter)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${n} by ${k}`)
    .join(', ');
}

/** Throws the specific error when the batch cannot be placed whole: nothing is reserved then. */
function refuse(r: RunResult, req: SchedRequest): void {
  if (!r.blockers.length && r.placements.length === req.count) return;
  const forecast = errorForecast(r.forecast, req);
  const validation = r.blockers.filter((b) => b.kind === 'validation');
  if (validation.length) {
    throw new ApiError('validation', validation.map((b) => `${b.path}: ${b.message}`).join('; '), {
      issues: validation.map((b) => ({ path: b.path, message: b.message, code: b.code })),
      reason: validation[0]!.code,
      forecast,
    });
  }
  const quota = r.blockers.find((b) => b.kind === 'quota');
  if (quota) throw new ApiError('conflict', quota.message, { reason: 'quota', ...quota.numbers, projectId: req.projectId, forecast });

  const f = r.forecast;
  const fits = r.placements.length;
  if (req.hostId && fits === 0) {
    const h = f.hosts.find((x) => x.hostId === req.hostId);
    if (h && h.rejections.length) {
      const issues: FieldIssue[] = h.rejections.map((x) => ({ path: FIELD[x.filter], message: `${h.name}: ${x.message}`, code: CAPACITY.has(x.filter) ? 'capacity' : x.filter }));
      throw new ApiError('validation', h.rejections.map((x) => `${x.filter}: ${x.message}`).join('; '), { issues, reason: 'host_rejected', rejections: h.rejections, forecast });
    }
  }
  if (fits === 0) {
    const examples = f.hosts
      .filter((h) => h.rejections.length)
      .slice(0, 5)
      .map((h) => `${h.name}: ${h.rejections.map((x) => `${x.filter}: ${x.message}`).join(', ')}`);
    const what = f.totalHosts ? `${plural(f.totalHosts, 'host')} rejected (${byFilterText(f)})${examples.length ? ` — ${examples.join('; ')}` : ''}` : 'no hosts are known';
    throw new ApiError('conflict', `no host can take this guest: ${what}`, { reason: 'no_host', count: req.count, fits: 0, forecast });
  }
  const rejected = f.totalHosts - f.candidates;
  throw new ApiError(
    'conflict',
    `only ${fits} of ${req.count} guests fit: the ${plural(f.candidates, 'candidate host')} ran out of room${rejected ? `; ${plural(rejected, 'host')} rejected (${byFilterText(f)})` : ''}`,
    { reason: 'no_capacity', count: req.count, fits, forecast },
  );
}
