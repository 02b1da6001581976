// A headless Skydeck (out/main/serve.js) for scripts: its URL, a JSON API caller and a task waiter.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export async function startServer(dataDir, args = []) {
  const proc = spawn(process.execPath, [join(ROOT, 'out', 'main', 'serve.js'), '--port', '0', '--data-dir', dataDir, ...args], { env: { ...process.env, SKYDECK_VAULT_PASSPHRASE: 'shots' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr.on('data', (d) => (out += d));
  const url = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /Open (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
  });
  const u = new URL(url);
  const token = u.searchParams.get('token');
  const api = async (command, input = {}) => {
    const r = await fetch(`${u.origin}/api/v1/${command}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(input) });
    const body = await r.json();
    if (r.status !== 200) throw new Error(`${command} → ${r.status} ${JSON.stringify(body)}`);
    return body;
  };
  const waitTask = async (id, ms = 120_000) => {
    const end = Date.now() + ms;
    for (;;) {
      const t = await api('tasks.get', { id });
      const task = t.task ?? t;
      if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(task.status)) {
        if (task.status !== 'succeeded') throw new Error(`task ${id} ${task.status}: ${JSON.stringify(task.error)}`);
        return task;
      }
      if (Date.now() > end) throw new Error(`task ${id} still ${task.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  return {
    url,
    api,
    waitTask,
    stop: () =>
      new Promise((resolve) => {
        proc.once('exit', resolve);
        proc.kill('SIGTERM');
      }),
  };
}

/** Client-side navigation in the app (as a click on a link does: the consoles workspace and other state stay alive). */
export function navigate(page, path) {
  return page.evaluate((p) => {
    /* global history, dispatchEvent, PopStateEvent */
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate', { state: {} }));
  }, path);
}
