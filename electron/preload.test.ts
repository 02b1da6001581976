import { beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('electron', async () => (await import('./fake-electron')).electronModule);

import { readFileSync } from 'node:fs';
import type { PreloadBridge } from '@shared/client';
import type { SkydeckEvent } from '@shared/events';
import { fake } from './fake-electron';
import { EVENT_CHANNEL, INVOKE_CHANNEL } from './ipc';

let bridge: PreloadBridge;

beforeAll(async () => {
  await import('./preload');
  bridge = fake.contextBridge.exposed.skydeck as PreloadBridge;
});

describe('preload', () => {
  it('exposes window.skydeck with exactly invoke and onEvent, both functions', () => {
    expect(Object.keys(fake.contextBridge.exposed)).toEqual(['skydeck']);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'onEvent']);
    for (const v of Object.values(bridge)) expect(typeof v).toBe('function');
  });

  it('never exposes ipcRenderer or any of its methods', () => {
    const values = Object.values(bridge) as unknown[];
    expect(values).not.toContain(fake.ipcRenderer);
    expect(values).not.toContain(fake.ipcRenderer.invoke);
    expect(values).not.toContain(fake.ipcRenderer.on);
    expect(values).not.toContain(fake.ipcRenderer.send);
  });

  it('invoke goes through the one invoke channel', async () => {
    fake.ipcRenderer.invoke.mockResolvedValueOnce({ ok: true, value: 42 });
    await expect(bridge.invoke('system.info', { x: 1 })).resolves.toEqual({ ok: true, value: 42 });
    expect(fake.ipcRenderer.invoke).toHaveBeenCalledWith(INVOKE_CHANNEL, 'system.info', { x: 1 });
  });

  it('onEvent delivers events without the IPC event object and unsubscribes', () => {
    const got: SkydeckEvent[] = [];
    const off = bridge.onEvent((e) => got.push(e));
    const ev: SkydeckEvent = { type: 'notification', level: 'info', title: 't', body: 'b' };
    fake.ipcRenderer.emit(EVENT_CHANNEL, { sender: 'secret ipc event' }, ev);
    expect(got).toEqual([ev]);
    off();
    fake.ipcRenderer.emit(EVENT_CHANNEL, {}, ev);
    expect(got).toHaveLength(1);
    expect(fake.ipcRenderer.listenerCount(EVENT_CHANNEL)).toBe(0);
  });

  it('uses the same channel names as the main side and imports nothing but electron at runtime', () => {
    expect(INVOKE_CHANNEL).toBe('skydeck:invoke');
    expect(EVENT_CHANNEL).toBe('skydeck:event');
    const src = readFileSync(new URL('./preload.ts', import.meta.url), 'utf8');
    const runtimeImports = [...src.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(runtimeImports).toEqual(['electron']);
    expect(src).toContain(`'${INVOKE_CHANNEL}'`);
    expect(src).toContain(`'${EVENT_CHANNEL}'`);
  });
});
