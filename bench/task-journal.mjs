// task-journal: the persistent task engine's journal (main/tasks/engine.ts), as the app runs it.
// - Throughput: 2,500 tasks of a 4-stage bench type, submitted, then run by the real TaskEngine (concurrency 16) on a
//   fresh database: 10,000 stage transitions, each committed (stage history + the task's new stage) before its task
//   goes on; the transitions that end in one event-loop turn share a commit (group commit) → transitions/s.
//   Medians of 5 runs after a warm-up.
// - Crash test: a child process runs 600 tasks of 5 stages; each stage does one side effect, idempotently (it looks
//   for its own effect row first, and writes it only if missing: a stage run twice without that check would leave two
//   rows; with the check removed this bench reports ~15 doubled per kill), then waits 1-4 ms before it completes. The parent kill -9s the child when ~40% of the stages are done, starts a new engine on the same database
//   (engine.start() resumes what was running), lets everything finish, then counts tasks lost (not succeeded), doubled
//   (a stage recorded `completed` twice in task_stages, or an effect written twice) and effects missing. Both counts
//   must be zero. 5 crashes after a warm-up; counts are summed over them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { median } from './lib.mjs';

const ROOT = join(import.meta.dirname, '..');
const BENCH = 'task-journal';
const RUNS = 5;
const TASKS = 2_500;
const CRASH_TASKS = 600;
const CRASH_STAGES = ['onInit', 'onReserve', 'onCreate', 'onConfigure', 'onFinish'];
const CONCURRENCY = 16;

/** The core as built (out/main/bench-entry.js, see main/bench/entry.ts); builds it when missing. */
async function loadBenchEntry() {
  const entry = join(ROOT, 'out/main/bench-entry.js');
  if (!existsSync(entry)) spawnSync(process.execPath, [join(ROOT, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  return import(pathToFileURL(entry).href);
}

const FINAL = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);

function engineFor(e, db, types) {
  const bus = new e.EventBus();
  const engine = new e.TaskEngine({ db, bus, logger: e.createLogger({ sink: () => {} }), types, concurrency: () => CONCURRENCY });
  return { engine, bus };
}

/** Resolves when `count` tasks have reached a final status. */
function allFinal(bus, count, onFinal = () => {}) {
  let n = 0;
  return new Promise((resolve) => {
    const off = bus.on((ev) => {
      if (ev.type !== 'task.updated' || !FINAL.has(ev.task.status)) return;
      n++;
      onFinal(n);
      if (n >= count) {
        off();
        resolve();
      }
    });
  });
}

// ---- throughput -----------------------------------------------------------------------------------------------------

const stepType = {
  type: 'bench.steps',
  params: z.object({ i: z.number() }),
  stages: {
    onInit: async () => ({ next: 'onFetch', progress: 25 }),
    onFetch: async () => ({ next: 'onApply', progress: 50 }),
    onApply: async () => ({ next: 'onFinish', progress: 75 }),
    onFinish: async () => ({ done: { ok: true } }),
  },
};

async function throughputRun(e) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-tasks-'));
  const o = e.openDatabase(dir, e.VERSION);
  try {
    const { engine, bus } = engineFor(e, o.db, [stepType]);
    for (let i = 0; i < TASKS; i++) engine.submit('bench.steps', { i }, { createdBy: 'bench' });
    const done = allFinal(bus, TASKS);
    const t0 = performance.now();
    await engine.start();
    await done;
    const ms = performance.now() - t0;
    const transitions = o.db.prepare(`SELECT count(*) AS n FROM task_stages WHERE status = 'completed'`).get().n;
    const ok = o.db.prepare(`SELECT count(*) AS n FROM tasks WHERE status = 'succeeded'`).get().n;
    if (transitions !== TASKS * 4 || ok !== TASKS) throw new Error(`expected ${TASKS * 4} transitions and ${TASKS} tasks, got ${transitions} and ${ok}`);
    await engine.stop();
    return { perSec: (transitions / ms) * 1000, ms };
  } finally {
    o.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- crash test ------------------------------------------------------------------------------------------------------

const SIDE_TABLES = `
  CREATE TABLE IF NOT EXISTS bench_effects (task_id TEXT NOT NULL, stage TEXT NOT NULL, at REAL NOT NULL);
  CREATE INDEX IF NOT EXISTS bench_effects_task ON bench_effects (task_id, stage);
  CREATE TABLE IF NOT EXISTS bench_runs (task_id TEXT NOT NULL, stage TEXT NOT NULL, pid INTEGER NOT NULL);`;

/** A task type whose every stage does one side effect, idempotently, then waits 1-4 ms (an API call's round trip). */
function effectType(db) {
  const ran = db.prepare('INSERT INTO bench_runs (task_id, stage, pid) VALUES (?, ?, ?)');
  const has = db.prepare('SELECT 1 FROM bench_effects WHERE task_id = ? AND stage = ? LIMIT 1');
  const apply = db.prepare('INSERT INTO bench_effects (task_id, stage, at) VALUES (?, ?, ?)');
  const stage = (name, next) => async (ctx) => {
    ran.run(ctx.task.id, name, process.pid);
    // Idempotent: a stage that runs again (it was in flight when the process died) finds its effect and skips it.
    if (!has.get(ctx.task.id, name)) apply.run(ctx.task.id, name, Date.now());
    // The effect is committed before the stage's completion is: a kill in this window makes the engine run the stage
    // again at the next start, which is exactly what the check above must absorb (without it, the effect doubles).
    await new Promise((r) => setTimeout(r, 1 + Math.floor(Math.random() * 4)));
    return next ? { next } : { done: { ok: true } };
  };
  return {
    type: 'bench.effects',
    params: z.object({ i: z.number() }),
    stages: Object.fromEntries(CRASH_STAGES.map((s, i) => [s, stage(s, CRASH_STAGES[i + 1])])),
  };
}

/** Child mode: submit the tasks, say so, run them, and report progress until killed. */
async function child(dir) {
  const e = await loadBenchEntry();
  const o = e.openDatabase(dir, e.VERSION);
  o.db.exec(SIDE_TABLES);
  const { engine, bus } = engineFor(e, o.db, [effectType(o.db)]);
  o.db.transaction(() => {
    for (let i = 0; i < CRASH_TASKS; i++) engine.submit('bench.effects', { i }, { createdBy: 'bench' });
  })();
  process.stdout.write(`submitted ${CRASH_TASKS}\n`);
  let stages = 0;
  bus.on((ev) => {
    if (ev.type === 'task.updated' && ev.task.status === 'running') process.stdout.write(`stage ${++stages}\n`);
  });
  await engine.start();
  await allFinal(bus, CRASH_TASKS);
  process.stdout.write('finished\n');
  await engine.stop();
  o.close();
}

async function crashRun(e) {
  const dir = mkdtempSync(join(tmpdir(), 'skydeck-bench-crash-'));
  try {
    const proc = spawn(process.execPath, [join(import.meta.dirname, 'task-journal.mjs'), '--child', dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const killAt = Math.round(CRASH_TASKS * CRASH_STAGES.length * 0.4);
    let out = '';
    let killed = false;
    const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/stage (\d+)\n/g);
      const n = m ? Number(m[m.length - 1].slice(6, -1)) : 0;
      if (!killed && n >= killAt) {
        killed = true;
        proc.kill('SIGKILL');
      }
      if (out.length > 1e6) out = out.slice(-1000);
    });
    const { signal } = await exited;
    if (signal !== 'SIGKILL') throw new Error(`the child was not killed mid-run (exit ${signal}); raise CRASH_TASKS`);

    const o = e.openDatabase(dir, e.VERSION);
    try {
      const db = o.db;
      const count = (sql) => db.prepare(sql).get().n;
      const inFlight = count(`SELECT count(*) AS n FROM tasks WHERE status = 'running'`);
      const doneAtKill = count(`SELECT count(*) AS n FROM tasks WHERE status = 'succeeded'`);
      const runsBefore = count('SELECT count(*) AS n FROM bench_runs');
      const { engine, bus } = engineFor(e, db, [effectType(db)]);
      const left = count(`SELECT count(*) AS n FROM tasks WHERE status NOT IN ('succeeded','failed','cancelled','interrupted')`);
      const finished = allFinal(bus, left);
      await engine.start();
      let timer;
      const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the resumed engine did not finish in 60 s')), 60_000)));
      await Promise.race([finished, timeout]).finally(() => clearTimeout(timer));
      await engine.stop();
      const lost = count(`SELECT count(*) AS n FROM tasks WHERE status <> 'succeeded'`);
      const doubledStages = count(`SELECT count(*) AS n FROM (SELECT 1 FROM task_stages WHERE status = 'completed' GROUP BY task_id, stage HAVING count(*) > 1)`);
      const doubledEffects = count(`SELECT count(*) AS n FROM (SELECT 1 FROM bench_effects GROUP BY task_id, stage HAVING count(*) > 1)`);
      const missing = count(`SELECT count(*) AS n FROM (SELECT t.id FROM tasks t WHERE (SELECT count(DISTINCT stage) FROM bench_effects WHERE task_id = t.id) <> ${CRASH_STAGES.length})`);
      // Executions (bench_runs) beyond one per stage: stages that were in flight at the kill and ran again.
      const reruns = count(`SELECT coalesce(sum(c - 1), 0) AS n FROM (SELECT count(*) AS c FROM bench_runs GROUP BY task_id, stage)`);
      return { lost, doubled: doubledStages + doubledEffects, doubledStages, doubledEffects, missing, inFlight, doneAtKill, runsBefore, reruns };
    } finally {
      o.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export default async function taskJournal(rec) {
  const e = await loadBenchEntry();
  const perSec = [];
  for (let i = 0; i <= RUNS; i++) {
    const r = await throughputRun(e);
    if (i > 0) perSec.push(r.perSec);
    process.stderr.write(`  run ${i}${i ? '' : ' (warm-up)'}: ${TASKS * 4} transitions in ${Math.round(r.ms)} ms (${Math.round(r.perSec)}/s)\n`);
  }
  rec.add({ bench: BENCH, metric: `stage transitions through TaskEngine (${TASKS} tasks x 4 stages, concurrency ${CONCURRENCY})`, value: median(perSec), unit: 'transitions/s', target: '≥ 20k/s', runs: RUNS });

  const totals = { lost: 0, doubled: 0, doubledStages: 0, doubledEffects: 0, missing: 0, inFlight: 0, reruns: 0 };
  for (let i = 0; i <= RUNS; i++) {
    const r = await crashRun(e);
    process.stderr.write(`  crash ${i}${i ? '' : ' (warm-up)'}: killed with ${r.doneAtKill} tasks done, ${r.inFlight} running; after restart: lost ${r.lost}, doubled ${r.doubled}, effects missing ${r.missing}, stages re-run ${r.reruns}\n`);
    if (i === 0) continue;
    for (const k of Object.keys(totals)) totals[k] += r[k];
  }
  const per = `${RUNS} kill -9 runs, ${CRASH_TASKS} tasks x ${CRASH_STAGES.length} stages each`;
  rec.add({ bench: BENCH, metric: `crash: tasks lost (not succeeded), ${per}`, value: totals.lost, unit: 'tasks', target: '0', runs: RUNS });
  rec.add({ bench: BENCH, metric: `crash: doubled (stage completed twice: ${totals.doubledStages}; effect written twice: ${totals.doubledEffects})`, value: totals.doubled, unit: 'stages', target: '0', runs: RUNS });
  rec.add({ bench: BENCH, metric: 'crash: stage effects missing', value: totals.missing, unit: 'tasks', target: '0', runs: RUNS });
  rec.add({ bench: BENCH, metric: 'crash: tasks running at the kill (resumed at their stage)', value: totals.inFlight, unit: 'tasks', runs: RUNS });
  rec.add({ bench: BENCH, metric: 'crash: stages run again after restart (in flight at the kill; idempotent)', value: totals.reruns, unit: 'stages', runs: RUNS });
}

if (process.argv[2] === '--child' && import.meta.url === pathToFileURL(process.argv[1]).href) {
  child(process.argv[3]).catch((err) => {
    process.stderr.write(`child failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
