import { beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import type { BrowserWindow } from 'electron';
import { ApiError } from '@shared/errors';
import type { SkydeckEvent } from '@shared/events';
import { EventBus } from '../main/events/bus';
import type { Logger } from '../main/log/logger';
import { fake, FakeBrowserWindow, resetFakes } from './fake-electron';
import { EVENT_CHANNEL, INVOKE_CHANNEL, forwardEvents, registerIpc, type InvokeResult } from './ipc';
import { APP_ORIGIN } from './protocol';
import { makeTrustedUrlCheck } from './security';

interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

function memoryLogger(lines: LogLine[]): Logger {
  const l: Logger = {
    scope: () => l,
    debug: (msg, fields) => lines.push({ level: 'debug', msg, ...(fields ? { fields } : {}) }),
    info: (msg, fields) => lines.push({ level: 'info', msg, ...(fields ? { fields } : {}) }),
    warn: (msg, fields) => lines.push({ level: 'warn', msg, ...(fields ? { fields } : {}) }),
    error: (msg, fields) => lines.push({ level: 'error', msg, ...(fields ? { fields } : {}) }),
  };
  return l;
}

const appFrame = { url: `${APP_ORIGIN}/index.html#/hosts`, parent: null };
const senderEvent = (frame: unknown) => ({ senderFrame: frame }) as never;

function setup(dispatch: (name: string, input: unknown, ctx: unknown) => Promise<unknown>) {
  const lines: LogLine[] = [];
  const core = { dispatch: vi.fn(dispatch) };
  const unregister = registerIpc({ core, actor: 'desktop:alice', isTrustedUrl: makeTrustedUrlCheck([APP_ORIGIN]), logger: memoryLogger(lines) });
  const handler = fake.ipcMain.handlers.get(INVOKE_CHANNEL) as unknown as (e: unknown, name: unknown, input: unknown) => Promise<InvokeResult>;
  return { core, handler, lines, unregister };
}

beforeEach(() => resetFakes());

describe('skydeck:invoke', () => {
  it('registers exactly one handler and removes it', () => {
    const { unregister } = setup(async () => null);
    expect(fake.ipcMain.handle).toHaveBeenCalledTimes(1);
    expect([...fake.ipcMain.handlers.keys()]).toEqual(['skydeck:invoke']);
    unregister();
    expect(fake.ipcMain.handlers.size).toBe(0);
  });

  it('dispatches to the core with the local actor and resolves {ok:true,value}', async () => {
    const { core, handler } = setup(async () => ({ version: '1.0.0' }));
    const r = await handler(senderEvent(appFrame), 'system.info', { a: 1 });
    expect(r).toEqual({ ok: true, value: { version: '1.0.0' } });
    expect(core.dispatch).toHaveBeenCalledWith('system.info', { a: 1 }, { actor: 'desktop:alice', transport: 'ipc' });
  });

  it('maps an ApiError to its body', async () => {
    const details = { issues: [{ path: 'name', message: 'Required', code: 'invalid_type' }] };
    const { handler } = setup(async () => {
      throw new ApiError('validation', 'Invalid input', details);
    });
    const r = await handler(senderEvent(appFrame), 'settings.update', {});
    expect(r).toEqual({ ok: false, error: { code: 'validation', message: 'Invalid input', details } });
  });

  it('maps any other error to a generic internal error and logs the stack, not the renderer', async () => {
    const { handler, lines } = setup(async () => {
      throw new TypeError('secret internals at /home/alice/db');
    });
    const r = await handler(senderEvent(appFrame), 'tasks.list', {});
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: 'Internal error' } });
    expect(JSON.stringify(r)).not.toContain('secret internals');
    const err = lines.find((l) => l.level === 'error');
    expect(err?.fields?.error).toBeInstanceOf(TypeError);
    expect((err?.fields?.error as Error).stack).toContain('secret internals');
  });

  it.each([
    ['a foreign page', { url: 'https://evil.example/', parent: null }],
    ['a look-alike origin', { url: 'app://skydeck.evil/index.html', parent: null }],
    ['a file: page', { url: 'file:///tmp/index.html', parent: null }],
    ['a sub-frame of the app', { url: `${APP_ORIGIN}/index.html`, parent: { url: `${APP_ORIGIN}/index.html` } }],
    ['a destroyed frame', null],
  ])('refuses %s without calling the core', async (_what, frame) => {
    const { core, handler, lines } = setup(async () => 'nope');
    const r = await handler(senderEvent(frame), 'system.info', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(core.dispatch).not.toHaveBeenCalled();
    expect(lines.some((l) => l.level === 'warn')).toBe(true);
  });
});

describe('skydeck:event', () => {
  const ev: SkydeckEvent = { type: 'resource.changed', kind: 'host', id: 'h1', action: 'created' };

  it('reaches the window and stops after the window closes', () => {
    const bus = new EventBus();
    const win = new FakeBrowserWindow();
    forwardEvents({ events: bus }, win as unknown as BrowserWindow);
    expect(bus.size).toBe(1);
    bus.emit(ev);
    expect(win.webContents.sent).toEqual([[EVENT_CHANNEL, ev]]);
    win.close();
    expect(bus.size).toBe(0);
    bus.emit(ev);
    expect(win.webContents.sent).toHaveLength(1);
  });

  it('each window gets its own subscription', () => {
    const bus = new EventBus();
    const a = new FakeBrowserWindow();
    const b = new FakeBrowserWindow();
    forwardEvents({ events: bus }, a as unknown as BrowserWindow);
    forwardEvents({ events: bus }, b as unknown as BrowserWindow);
    a.close();
    bus.emit(ev);
    expect(a.webContents.sent).toHaveLength(0);
    expect(b.webContents.sent).toEqual([[EVENT_CHANNEL, ev]]);
  });

  it('does not send to a destroyed webContents', () => {
    const bus = new EventBus();
    const win = new FakeBrowserWindow();
    forwardEvents({ events: bus }, win as unknown as BrowserWindow);
    win.webContents.destroyed = true;
    bus.emit(ev);
    expect(win.webContents.sent).toHaveLength(0);
  });
});
