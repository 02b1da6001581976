import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer as createNetServer, connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Schedule } from '@shared/contract/reports';
import { tempDir, testCore } from '../test/helpers';
import { call, reportFixture } from './testing';

/**
 * Scheduled reports mailed through a real SMTP server (Debian's python3-aiosmtpd, started here, printing each message):
 * the file arrives as an attachment that decodes to the written bytes; an unreachable server shows as a failed delivery
 * on the schedule while the file stays; recipients without SMTP set up are refused at save time.
 */

type TestCore = Awaited<ReturnType<typeof testCore>>;
let dir: { path: string; cleanup(): void };
let out: string;
let core: TestCore;
let smtp: ChildProcess;
let smtpOut = '';
let smtpPort = 0;

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createNetServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
const listening = (port: number) =>
  new Promise<boolean>((r) => {
    const c = connect(port, '127.0.0.1');
    c.once('connect', () => (c.destroy(), r(true)));
    c.once('error', () => r(false));
  });

const schedule = (id: string) => call<{ items: Schedule[] }>(core, 'reports.listSchedules').then((r) => r.items.find((s) => s.id === id)!);

/** The messages the Debugging handler printed, each as its raw text. */
const messages = () => [...smtpOut.matchAll(/-+ MESSAGE FOLLOWS -+\r?\n([\s\S]*?)\r?\n-+ END MESSAGE -+/g)].map((m) => m[1]!.replace(/\r\n/g, '\n'));

/** Enough MIME: the headers of a part (unfolded, lower-cased names) and its body. */
function splitPart(text: string): { headers: Record<string, string>; body: string } {
  const i = text.indexOf('\n\n');
  const head = (i < 0 ? text : text.slice(0, i)).replace(/\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\n')) {
    const c = line.indexOf(':');
    if (c > 0) headers[line.slice(0, c).trim().toLowerCase()] = line.slice(c + 1).trim();
  }
  return { headers, body: i < 0 ? '' : text.slice(i + 2) };
}
/** RFC 2047 encoded words (=?UTF-8?Q?...?= and =?UTF-8?B?...?=), as nodemailer writes non-ASCII headers. */
function decodeWords(v: string): string {
  return v
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_, _cs: string, enc: string, data: string) =>
      enc.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : Buffer.from(data.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
}
function parts(text: string): { headers: Record<string, string>; body: string }[] {
  const top = splitPart(text);
  const boundary = /boundary="?([^";]+)"?/i.exec(top.headers['content-type'] ?? '')?.[1];
  if (!boundary) return [top];
  return top.body
    .split(`--${boundary}`)
    .slice(1)
    .filter((p) => !p.startsWith('--'))
    .flatMap((p) => parts(p.replace(/^\n/, '')));
}

beforeAll(async () => {
  dir = tempDir();
  out = join(dir.path, 'out');
  mkdirSync(out);
  smtpPort = await freePort();
  smtp = spawn('/usr/bin/python3', ['-u', '-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${smtpPort}`, '-c', 'aiosmtpd.handlers.Debugging', 'stdout'], { stdio: ['ignore', 'pipe', 'pipe'] });
  smtp.stdout!.on('data', (d: Buffer) => (smtpOut += d.toString()));
  smtp.stderr!.on('data', (d: Buffer) => (smtpOut += d.toString()));
  core = await testCore(join(dir.path, 'data'));
  reportFixture(core.db, { hosts: 5, guests: 20 });
  for (const end = Date.now() + 15_000; !(await listening(smtpPort)); ) {
    if (Date.now() > end) throw new Error(`the SMTP server did not listen: ${smtpOut}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 30_000);
afterAll(async () => {
  smtp?.kill();
  await core?.close();
  dir?.cleanup();
});

const base = { report: { type: 'capacity', sections: ['zones'] }, format: 'xlsx', cadence: { kind: 'daily', time: '06:00' } };

describe('mailing scheduled reports', () => {
  it('refuses recipients while SMTP is not set up, naming the field, and bad or too many addresses', async () => {
    await expect(call(core, 'reports.createSchedule', { ...base, name: 'mailed', folder: out, recipients: ['ops@example.test'] })).rejects.toMatchObject({
      code: 'validation',
      message: expect.stringMatching(/^recipients: e-mail is not set up/),
      details: { issues: [{ path: 'recipients', code: 'smtp_not_configured' }] },
    });
    const plain = await call<Schedule>(core, 'reports.createSchedule', { ...base, name: 'plain', folder: out });
    expect(plain.recipients).toEqual([]);
    await expect(call(core, 'reports.updateSchedule', { id: plain.id, patch: { recipients: ['ops@example.test'] } })).rejects.toMatchObject({ code: 'validation', details: { issues: [{ path: 'patch.recipients' }] } });
    await call(core, 'alerts.setChannels', { email: { host: '127.0.0.1', port: smtpPort, from: 'skydeck@example.test', to: ['alerts@example.test'] }, webhook: null });
    await expect(call(core, 'reports.createSchedule', { ...base, name: 'bad', folder: out, recipients: ['not-an-address'] })).rejects.toMatchObject({ code: 'validation' });
    const many = Array.from({ length: 21 }, (_, i) => `u${i}@example.test`);
    await expect(call(core, 'reports.createSchedule', { ...base, name: 'many', folder: out, recipients: many })).rejects.toMatchObject({ code: 'validation' });
    // Without recipients a run mails nothing.
    const t = await core.engine.waitFor((await call<{ taskId: string }>(core, 'reports.runSchedule', { id: plain.id })).taskId);
    expect(t.status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 200));
    expect((await schedule(plain.id)).lastDelivery).toBeNull();
    await call(core, 'reports.deleteSchedule', { id: plain.id });
  });

  it('mails the written file as an attachment through the configured SMTP server', async () => {
    const s = await call<Schedule>(core, 'reports.createSchedule', { ...base, name: 'capacity mailed', folder: out, recipients: ['ops@example.test', 'finance@example.test'] });
    expect(s.recipients).toEqual(['ops@example.test', 'finance@example.test']);
    const before = messages().length;
    const t = await core.engine.waitFor((await call<{ taskId: string }>(core, 'reports.runSchedule', { id: s.id })).taskId);
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    const file = (t.result as { path: string; file: string }).path;
    const name = (t.result as { file: string }).file;
    await expect.poll(async () => (await schedule(s.id)).lastDelivery?.status, { timeout: 20_000, interval: 100 }).toBe('sent');
    const after = await schedule(s.id);
    expect(after.lastDelivery!.error).toBeNull();
    await expect.poll(() => messages().length, { timeout: 10_000, interval: 100 }).toBe(before + 1);
    const msg = messages().at(-1)!;
    const top = splitPart(msg).headers;
    expect(decodeWords(top.subject!)).toBe(`Capacity and allocation report — ${new Date(t.params.at as string).toISOString().slice(0, 10)}`);
    expect(top.to).toBe('ops@example.test, finance@example.test');
    expect(top.from).toBe('skydeck@example.test');
    const all = parts(msg);
    const text = all.find((p) => (p.headers['content-type'] ?? '').startsWith('text/plain'))!;
    expect(text.body).toContain('capacity mailed');
    const att = all.find((p) => /attachment/i.test(p.headers['content-disposition'] ?? ''))!;
    expect(att.headers['content-disposition']).toMatch(new RegExp(`filename="?${name.replace(/[.]/g, '\\.')}"?`));
    expect(att.headers['content-transfer-encoding']).toBe('base64');
    const bytes = Buffer.from(att.body.replace(/\s+/g, ''), 'base64');
    expect(bytes.equals(readFileSync(file))).toBe(true);
    expect(bytes.subarray(0, 2).toString()).toBe('PK');
  });

  it('records a failed delivery when the SMTP server cannot be reached, and keeps the file', async () => {
    const dead = await freePort();
    await call(core, 'alerts.setChannels', { email: { host: '127.0.0.1', port: dead, from: 'skydeck@example.test', to: ['alerts@example.test'] }, webhook: null });
    const s = (await call<{ items: Schedule[] }>(core, 'reports.listSchedules')).items.find((x) => x.name === 'capacity mailed')!;
    const t = await core.engine.waitFor((await call<{ taskId: string }>(core, 'reports.runSchedule', { id: s.id })).taskId);
    expect(t.status, JSON.stringify(t.error)).toBe('succeeded');
    await expect.poll(async () => (await schedule(s.id)).lastDelivery?.status, { timeout: 30_000, interval: 100 }).toBe('failed');
    const after = await schedule(s.id);
    expect(after.lastDelivery!.error).toMatch(/ECONNREFUSED|connect/i);
    expect(after.lastStatus).toBe('succeeded');
    expect(existsSync((t.result as { path: string }).path)).toBe(true);
    expect(after.lastFile).toBe((t.result as { path: string }).path);
  }, 40_000);
});
