import Database from 'better-sqlite3';
import { join } from 'node:path';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '@shared/errors';
import type { SkydeckEvent } from '@shared/events';
import { EventBus } from '../events/bus';
import { createLogger } from '../log/logger';
import { DB_FILE, openDatabase, type OpenedDatabase } from '../db/open';
import { memoryLogger, tempDir } from '../test/helpers';
import { TaskEngine } from './engine';
import type { TaskType } from './types';

const logger = createLogger({ sink: () => {} });
const open: { o: OpenedDatabase; cleanup(): void }[] = [];
afterEach(() => open.splice(0).forEach(({ o, cleanup }) => (o.close(), cleanup())));

function database() {
  const d = tempDir();
  const o = openDatabase(d.path, 't');
  open.push({ o, cleanup: d.cleanup });
  return { o, dir: d.path };
}

/** A test task type whose stages record what ran, and can be told to fail or to block until released. */
function recorder() {
  const ran: string[] = [];
  const gates = new Map<string, () => void>();
  const gate = (name: string, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      gates.set(name, resolve);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  const type: TaskType<{ failAt?: string; blockAt?: string; n?: number }> = {
    type: 'test.steps',
    params: z.object({ failAt: z.string().optional(), blockAt: z.string().optional(), n: z.number().optional() }),
    stages: {
      async onInit(ctx) {
        ran.push(`onInit:${ctx.task.id.slice(0, 4)}`);
        if (ctx.params.blockAt === 'onInit') await gate(ctx.task.id, ctx.signal);
        if (ctx.params.failAt === 'onInit') throw new ApiError('unreachable', 'host did not answer', { reason: 'unreachable' });
        return { next: 'onWork', progress: 10, message: 'prepared', patch: { n: 1 } };
      },
      async onWork(ctx) {
        ran.push(`onWork:n=${ctx.params.n}`);
        ctx.progress(50, 'halfway');
        if (ctx.params.blockAt === 'onWork') await gate(ctx.task.id, ctx.signal);
        if (ctx.params.failAt === 'onWork') throw new Error('disk full');
        return { done: { ok: true, n: ctx.params.n } };
      },
    },
    failed: {
      async onWorkFailed() {
        ran.push('onWorkFailed');
      },
    },
  };
  return { type, ran, release: (id: string) => gates.get(id)?.() };
}

function engineFor(o: OpenedDatabase, type: TaskType<any>, bus = new EventBus(), concurrency = 4) {
  return new TaskEngine({ db: o.db, bus, logger, types: [type], concurrency: () => concurrency, progressIntervalMs: 0 });
}

describe('task engine', () => {
  it('runs stages in order, commits each, and records the history', async () => {
    const { o } = database();
    const r = recorder();
    const bus = new EventBus();
    const events: SkydeckEvent[] = [];
    bus.on((e) => events.push(e));
    const e = engineFor(o, r.type, bus);
    await e.start();
    const t = e.submit('test.steps', {}, { createdBy: 'tester', target: { kind: 'guest', id: 'g1', name: 'web-1' } });
    expect(t.status).toBe('queued');
    const done = await e.waitFor(t.id);
    expect(done).toMatchObject({ status: 'succeeded', progress: 100, result: { ok: true, n: 1 }, attempts: 1, target: { kind: 'guest', id: 'g1', name: 'web-1' } });
    expect(e.repo.detail(t.id)!.history.map((h) => `${h.stage}:${h.status}`)).toEqual(['onInit:entered', 'onInit:completed', 'onWork:entered', 'onWork:completed']);
    const progress = events.filter((x) => x.type === 'task.updated').map((x) => (x as { task: { progress: number } }).task.progress);
    expect(progress).toContain(50);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    await e.stop();
  });

  it('runs the <stage>Failed handler and keeps the error with its reason', async () => {
    const { o } = database();
    const r = recorder();
    const e = engineFor(o, r.type);
    await e.start();
    const a = await e.waitFor(e.submit('test.steps', { failAt: 'onWork' }, { createdBy: 't' }).id);
    expect(a).toMatchObject({ status: 'failed', stage: 'onWork', error: { code: 'internal', message: 'disk full' } });
    expect(r.ran).toContain('onWorkFailed');
    const b = await e.waitFor(e.submit('test.steps', { failAt: 'onInit' }, { createdBy: 't' }).id);
    expect(b.error).toEqual({ code: 'unreachable', message: 'host did not answer', reason: 'unreachable' });
    await e.stop();
  });

  it('refuses parameters outside the type\'s schema', async () => {
    const { o } = database();
    const e = engineFor(o, recorder().type);
    expect(() => e.submit('test.steps', { n: 'x' }, { createdBy: 't' })).toThrow(/invalid parameters/);
    expect(() => e.submit('test.nope', {}, { createdBy: 't' })).toThrow(/unknown task type/);
  });

  it('runs one task at a time per resource, others in parallel', async () => {
    const { o } = database();
    const r = recorder();
    const e = engineFor(o, r.type);
    await e.start();
    const a = e.submit('test.steps', { blockAt: 'onWork' }, { createdBy: 't', target: { kind: 'guest', id: 'same' } });
    const b = e.submit('test.steps', {}, { createdBy: 't', target: { kind: 'guest', id: 'same' } });
    const c = e.submit('test.steps', {}, { createdBy: 't', target: { kind: 'guest', id: 'other' } });
    expect((await e.waitFor(c.id)).status).toBe('succeeded');
    expect(e.repo.get(b.id)!.status).toBe('queued');
    r.release(a.id);
    expect((await e.waitFor(a.id)).status).toBe('succeeded');
    expect((await e.waitFor(b.id)).status).toBe('succeeded');
    await e.stop();
  });

  it('respects the global concurrency limit', async () => {
    const { o } = database();
    const r = recorder();
    const e = engineFor(o, r.type, new EventBus(), 1);
    await e.start();
    const a = e.submit('test.steps', { blockAt: 'onInit' }, { createdBy: 't' });
    const b = e.submit('test.steps', {}, { createdBy: 't' });
    await new Promise((res) => setTimeout(res, 50));
    expect(e.repo.get(b.id)!.status).toBe('queued');
    r.release(a.id);
    expect((await e.waitFor(b.id)).status).toBe('succeeded');
    await e.stop();
  });

  it('cancels queued and running tasks, and refuses to cancel a finished one', async () => {
    const { o } = database();
    const r = recorder();
    const e = engineFor(o, r.type, new EventBus(), 1);
    await e.start();
    const running = e.submit('test.steps', { blockAt: 'onWork' }, { createdBy: 't' });
    const queued = e.submit('test.steps', {}, { createdBy: 't' });
    await new Promise((res) => setTimeout(res, 50));
    expect(e.cancel(queued.id).status).toBe('cancelled');
    expect(e.cancel(running.id).status).toBe('cancelling');
    expect(await e.waitFor(running.id)).toMatchObject({ status: 'cancelled', error: { reason: 'cancelled' } });
    expect(() => e.cancel(running.id)).toThrow(/already cancelled/);
    await e.stop();
  });

  it('resumes a task at its stage after the app stopped mid-stage, keeping patched params', async () => {
    const { o } = database();
    const r1 = recorder();
    const e1 = engineFor(o, r1.type);
    await e1.start();
    const t = e1.submit('test.steps', { blockAt: 'onWork' }, { createdBy: 't' });
    await new Promise((res) => setTimeout(res, 50));
    await e1.stop(); // quit while onWork is in flight
    expect(e1.repo.get(t.id)).toMatchObject({ status: 'running', stage: 'onWork' });

    const r2 = recorder();
    const e2 = engineFor(o, { ...r2.type, stages: { ...r2.type.stages, onWork: async (ctx) => { r2.ran.push(`onWork:n=${ctx.params.n}`); return { done: 'resumed' }; } } });
    await e2.start();
    const done = await e2.waitFor(t.id);
    expect(done).toMatchObject({ status: 'succeeded', result: 'resumed', attempts: 2 });
    expect(r2.ran).toEqual(['onWork:n=1']); // onInit was not run again
    expect(e2.repo.detail(t.id)!.history.some((h) => h.message === 'resumed after a restart')).toBe(true);
    await e2.stop();
  });

  it('ends a task as interrupted when its type cannot resume', async () => {
    const { o } = database();
    const r1 = recorder();
    const e1 = engineFor(o, r1.type);
    await e1.start();
    const t = e1.submit('test.steps', { blockAt: 'onWork' }, { createdBy: 't' });
    await new Promise((res) => setTimeout(res, 50));
    await e1.stop();
    const e2 = engineFor(o, { ...recorder().type, recover: async () => 'interrupt' });
    await e2.start();
    expect(e2.repo.get(t.id)).toMatchObject({ status: 'interrupted', error: { reason: 'interrupted' } });
    await e2.stop();
  });

  it('commits each step before the task moves on, with many tasks per group commit', async () => {
    const { o, dir } = database();
    // A second connection sees only what is committed: what each stage finds there is what a kill -9 would leave.
    const reader = new Database(join(dir, DB_FILE), { readonly: true });
    const seen: string[] = [];
    const check = (id: string, stage: string) => {
      expect(o.db.inTransaction).toBe(false);
      const row = reader.prepare('SELECT status, stage FROM tasks WHERE id = ?').get(id) as { status: string; stage: string };
      const history = (reader.prepare('SELECT stage, status FROM task_stages WHERE task_id = ? ORDER BY id').all(id) as { stage: string; status: string }[]).map((h) => `${h.stage}:${h.status}`);
      seen.push(`${row.status}/${row.stage}/${history.join(',')}`);
      expect(row).toEqual({ status: 'running', stage });
      expect(history.at(-1)).toBe(`${stage}:entered`);
    };
    const type: TaskType<{ i: number }> = {
      type: 'test.many',
      params: z.object({ i: z.number() }),
      stages: {
        onInit: async (ctx) => (check(ctx.task.id, 'onInit'), { next: 'onA', progress: 30 }),
        onA: async (ctx) => (check(ctx.task.id, 'onA'), { next: 'onB', progress: 60, message: 'a done' }),
        onB: async (ctx) => (check(ctx.task.id, 'onB'), { done: { i: ctx.params.i } }),
      },
    };
    const bus = new EventBus();
    const updates = new Map<string, string[]>();
    bus.on((ev) => {
      if (ev.type !== 'task.updated') return;
      // An event is sent only after what it says is committed.
      const row = reader.prepare('SELECT status, stage FROM tasks WHERE id = ?').get(ev.task.id) as { status: string; stage: string };
      expect(row).toEqual({ status: ev.task.status, stage: ev.task.stage });
      updates.set(ev.task.id, [...(updates.get(ev.task.id) ?? []), `${ev.task.status}:${ev.task.stage}:${ev.task.progress}`]);
    });
    const e = engineFor(o, type, bus, 8);
    const ids = Array.from({ length: 40 }, (_, i) => e.submit('test.many', { i }, { createdBy: 't' }).id);
    await e.start();
    for (const [i, id] of ids.entries()) expect(await e.waitFor(id)).toMatchObject({ status: 'succeeded', progress: 100, result: { i }, message: 'done' });
    expect(seen).toHaveLength(120);
    for (const id of ids) {
      expect(e.repo.detail(id)!.history.map((h) => `${h.stage}:${h.status}`)).toEqual(['onInit:entered', 'onInit:completed', 'onA:entered', 'onA:completed', 'onB:entered', 'onB:completed']);
      expect(updates.get(id)).toEqual(['queued:onInit:0', 'running:onInit:0', 'running:onA:30', 'running:onB:60', 'succeeded:onB:100']);
    }
    reader.close();
    await e.stop();
  });

  it('keeps one task\'s failed commit from failing the others committed with it', async () => {
    const { o } = database();
    const type: TaskType<{ bad: boolean }> = {
      type: 'test.commit',
      params: z.object({ bad: z.boolean() }),
      stages: { onInit: async () => ({ done: true }) },
    };
    let bad = '';
    let refusals = 0;
    const log = memoryLogger();
    const e = new TaskEngine({
      db: o.db,
      bus: new EventBus(),
      logger: log.logger,
      types: [type],
      concurrency: () => 8,
      // Refuses the bad task's end twice: in the group commit, then alone; the engine then records it as failed.
      onFinish: (id) => {
        if (id === bad && refusals < 2) {
          refusals++;
          throw new Error('quota row locked');
        }
      },
    });
    const ids = Array.from({ length: 6 }, (_, i) => e.submit('test.commit', { bad: i === 3 }, { createdBy: 't' }).id);
    bad = ids[3]!;
    await e.start();
    for (const [i, id] of ids.entries()) {
      const t = await e.waitFor(id);
      if (i === 3) expect(t).toMatchObject({ status: 'failed', error: { reason: 'engine_error', message: expect.stringContaining('quota row locked') } });
      else expect(t.status).toBe('succeeded');
    }
    expect(refusals).toBe(2);
    expect(log.lines.some((x) => x.includes('the engine failed on a task'))).toBe(true);
    await e.stop();
  });
});
