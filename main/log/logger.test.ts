import { describe, expect, it } from 'vitest';
import { createLogger, redact, redactString } from './logger';

describe('redaction', () => {
  it('masks secret-looking keys at any depth', () => {
    const r = redact({ host: 'h1', auth: { password: 'hunter2', privateKey: 'KEY', passphrase: 'p' }, list: [{ secretAccessKey: 's' }], apiKey: 'k', token: 't' });
    expect(JSON.stringify(r)).not.toMatch(/hunter2|KEY|"p"|"s"|"k"|"t"/);
    expect(r).toMatchObject({ host: 'h1', auth: { password: '***', privateKey: '***' } });
  });

  it('scrubs PEM keys, bearer tokens and token query parameters inside strings', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----';
    expect(redactString(`key is ${pem} ok`)).toBe('key is [private key redacted] ok');
    expect(redactString('Authorization: Bearer abcdefghijkl')).toBe('Authorization: Bearer ***');
    expect(redactString('GET /?token=abc123&x=1')).toBe('GET /?token=***&x=1');
  });

  it('masks extra fields a command declares secret', () => {
    expect(redact({ user: 'root', credential: 'x', sshKey: 'y' }, ['sshKey'])).toEqual({ user: 'root', credential: '***', sshKey: '***' });
  });

  it('survives cycles and errors', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    expect(redact(a)).toEqual({ name: 'a', self: '[circular]' });
    const e = redact(new Error('login with password=abc failed')) as { message: string };
    expect(e.message).toContain('failed');
  });

  it('never writes a secret through the logger', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: (l) => lines.push(l) }).scope('ssh');
    log.info('connecting with Bearer sk-live-1234567890', { host: '10.0.0.1', password: 'hunter2', nested: { token: 'tok' } });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/hunter2|sk-live|"tok"/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'info', scope: 'core.ssh', host: '10.0.0.1' });
  });

  it('honours the level', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
    log.info('quiet');
    log.warn('loud');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['loud']);
  });
});
