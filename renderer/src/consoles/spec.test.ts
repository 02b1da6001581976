import { describe, expect, it } from 'vitest';
import { consoleOpenInput } from '@shared/contract/consoles';
import { openInput, singletonKey, specFromQuery, specQuery, targetOf, type ConsoleSpec } from './spec';
import { wsUrlOf } from './url';
import { cleanReason, closeProblem, errorProblem, isRetryableClose, isRetryableError, problemText } from './problems';
import { ApiError } from '@shared/errors';

const sshSpec: ConsoleSpec = { kind: 'guest-ssh', guestId: 'g-1', address: '10.0.0.5', port: 2222, username: 'admin', auth: { method: 'password', password: 'pw' } };

describe('console specs', () => {
  it('build consoles.open inputs the contract accepts', () => {
    const size = { cols: 120, rows: 40 };
    for (const spec of [{ kind: 'vnc', guestId: 'g-1' }, { kind: 'serial', guestId: 'g-1' }, { kind: 'host-ssh', hostId: 'h-1' }, sshSpec] as ConsoleSpec[]) {
      const input = openInput(spec, size);
      expect(consoleOpenInput.safeParse(input).success, spec.kind).toBe(true);
    }
    expect(openInput({ kind: 'vnc', guestId: 'g-1' }, size)).toEqual({ kind: 'vnc', guestId: 'g-1' });
    expect(openInput({ kind: 'host-ssh', hostId: 'h-1' }, { cols: 5000, rows: 0 })).toEqual({ kind: 'host-ssh', hostId: 'h-1', size: { cols: 1000, rows: 1 } });
    expect(openInput({ ...sshSpec, address: undefined, acceptFingerprint: 'SHA256:x' } as ConsoleSpec)).toEqual({
      kind: 'guest-ssh',
      guestId: 'g-1',
      port: 2222,
      username: 'admin',
      auth: { method: 'password', password: 'pw' },
      acceptFingerprint: 'SHA256:x',
    });
  });

  it('one display and one serial port per guest; SSH terminals as many as wanted', () => {
    expect(singletonKey({ kind: 'vnc', guestId: 'g' })).toBe('vnc:g');
    expect(singletonKey({ kind: 'serial', guestId: 'g' })).toBe('serial:g');
    expect(singletonKey({ kind: 'host-ssh', hostId: 'h' })).toBeNull();
    expect(singletonKey(sshSpec)).toBeNull();
    expect(targetOf({ kind: 'host-ssh', hostId: 'h' })).toEqual({ kind: 'host', id: 'h' });
    expect(targetOf(sshSpec)).toEqual({ kind: 'guest', id: 'g-1' });
  });

  it('the standalone window address round-trips, never with a secret', () => {
    for (const spec of [{ kind: 'vnc', guestId: 'g-1' }, { kind: 'serial', guestId: 'g-2' }, { kind: 'host-ssh', hostId: 'h-1' }] as ConsoleSpec[]) {
      expect(specFromQuery(specQuery(spec))).toEqual({ spec });
    }
    const q = specQuery(sshSpec);
    expect(JSON.stringify(q)).not.toContain('pw');
    expect(specFromQuery(q)).toEqual({ needsAuth: { guestId: 'g-1', address: '10.0.0.5', port: 2222, username: 'admin' } });
    expect(specFromQuery({ kind: 'guest-ssh', guestId: 'g', port: 'x' })).toEqual({ needsAuth: { guestId: 'g', address: null, port: 22, username: null } });
    expect(specFromQuery({ kind: 'vnc' })).toBeNull();
    expect(specFromQuery({ kind: 'telnet', guestId: 'g' })).toBeNull();
    expect(specFromQuery({ kind: ['vnc'], guestId: ['g-9'] })).toEqual({ spec: { kind: 'vnc', guestId: 'g-9' } });
  });
});

describe('console WebSocket address', () => {
  it('uses the absolute url of the desktop listener, else the path on the page origin', () => {
    expect(wsUrlOf({ url: 'ws://127.0.0.1:4567/c/abc', path: '/api/v1/consoles/abc' }, { protocol: 'http:', host: 'x' })).toBe('ws://127.0.0.1:4567/c/abc');
    expect(wsUrlOf({ url: null, path: '/api/v1/consoles/abc' }, { protocol: 'http:', host: 'skydeck.lan:8080' })).toBe('ws://skydeck.lan:8080/api/v1/consoles/abc');
    expect(wsUrlOf({ url: null, path: '/api/v1/consoles/abc' }, { protocol: 'https:', host: 'skydeck.example' })).toBe('wss://skydeck.example/api/v1/consoles/abc');
  });
});

describe('console problems', () => {
  it('maps close codes to messages and tells which are worth another try', () => {
    expect(closeProblem(4009, ' web-1 stopped ')).toEqual({ key: 'consoles.close.notRunning', detail: 'web-1 stopped', closeCode: 4009 });
    expect(closeProblem(4999, '').key).toBe('consoles.close.other');
    expect(closeProblem(1006, '').detail).toBeNull();
    expect(cleanReason('Authentication failed\u0000')).toBe('Authentication failed');
    expect(cleanReason('a\r\n  b')).toBe('a b');
    expect(cleanReason(undefined)).toBeNull();
    expect([4001, 4502, 4100, 4500, 1006, 1000].every(isRetryableClose)).toBe(true);
    expect([4004, 4009, 4003, 4000].some(isRetryableClose)).toBe(false);
  });

  it('maps API errors and tells which are worth another try', () => {
    expect(isRetryableError(new ApiError('unreachable', 'x'))).toBe(true);
    expect(isRetryableError(new ApiError('timeout', 'x'))).toBe(true);
    expect(isRetryableError(new ApiError('conflict', 'x'))).toBe(false);
    expect(isRetryableError(new ApiError('not_found', 'x'))).toBe(false);
    expect(isRetryableError(new Error('boom'))).toBe(false);
    expect(errorProblem(new ApiError('conflict', 'web-1 is not running'))).toEqual({ key: 'errors.conflict', detail: 'web-1 is not running', errorCode: 'conflict' });
    // Reasons the UI words itself, in the admin's language.
    expect(errorProblem(new ApiError('conflict', 'guest web-1 is ready: …', { reason: 'not_running', status: 'ready' }))).toEqual({ key: 'consoles.problem.notRunning', detail: null, errorCode: 'conflict' });
    expect(errorProblem(new ApiError('not_found', 'no VNC', { reason: 'no_vnc' }))).toMatchObject({ key: 'consoles.problem.noVnc', detail: null });
  });

  it('reads as one line', () => {
    const t = (k: string) => ({ 'errors.conflict': 'Conflict', 'consoles.close.abnormal': 'Connection lost' })[k] ?? k;
    expect(problemText({ key: 'errors.conflict', detail: 'web-1 is not running' }, t)).toBe('Conflict: web-1 is not running');
    expect(problemText({ key: 'consoles.close.abnormal', detail: null }, t)).toBe('Connection lost');
    expect(problemText({ key: 'errors.conflict', detail: 'conflict' }, t)).toBe('Conflict');
  });
});
