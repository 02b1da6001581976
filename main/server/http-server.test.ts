import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { commands } from '@shared/contract';
import type { SkydeckEvent } from '@shared/events';
import { tempDir, testServer } from '../test/helpers';
import { MIGRATIONS } from '../db/migrations';

type T = Awaited<ReturnType<typeof testServer>>;

describe('headless HTTP transport', () => {
  let t: T;
  const web = tempDir('skydeck-web-');
  beforeAll(async () => {
    mkdirSync(join(web.path, 'assets'));
    writeFileSync(join(web.path, 'index.html'), '<!doctype html><title>Skydeck</title>');
    writeFileSync(join(web.path, 'assets', 'app.js'), 'console.log(1)');
    t = await testServer({ staticDir: web.path, maxBodyBytes: 64 * 1024 });
  });
  afterAll(async () => {
    await t.close();
    web.cleanup();
  });

  it('answers a command with its output', async () => {
    const r = await t.call('system.info', {});
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: 'Skydeck', mode: 'headless', dataDir: t.dataDir, schemaVersion: MIGRATIONS.length, readOnly: false });
    expect(r.body.sqlite).toMatch(/^3\./);
  });

  it('accepts an empty body as empty input', async () => {
    const r = await t.call('settings.get');
    expect(r.status).toBe(200);
    expect(r.body.locale).toBe('en');
  });

  it('refuses calls without the token or with a wrong one', async () => {
    const none = await fetch(`${t.base}/api/v1/system.info`, { method: 'POST' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/Bearer/);
    expect(await none.json()).toMatchObject({ code: 'unauthenticated' });
    const wrong = await t.call('system.info', {}, { headers: { Authorization: `Bearer ${'x'.repeat(t.server.token.length)}` } });
    expect(wrong.status).toBe(401);
    const list = await fetch(`${t.base}/api/v1/tasks`);
    expect(list.status).toBe(401);
  });

  it('answers an unknown command with not_found', async () => {
    const r = await t.call('system.explode', {});
    expect(r.status).toBe(404);
    expect(r.body).toMatchObject({ code: 'not_found', details: { command: 'system.explode' } });
  });

  it('answers malformed JSON with a validation error', async () => {
    const r = await t.call('settings.set', '{"patch": {');
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation');
    expect(r.body.message).toMatch(/Malformed JSON/);
  });

  it('names the field when a type is wrong, and changes nothing', async () => {
    const before = (await t.call('settings.get')).body;
    const r = await t.call('settings.set', { patch: { pageSize: 'many', locale: 'zh-CN' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('validation');
    expect(r.body.details.issues).toEqual([expect.objectContaining({ path: 'patch.pageSize' })]);
    expect(r.body.message).toMatch(/patch\.pageSize/);
    expect((await t.call('settings.get')).body).toEqual(before);
  });

  it('refuses unknown fields instead of ignoring them', async () => {
    const r = await t.call('settings.set', { patch: { colour: 'blue' } });
    expect(r.status).toBe(400);
    expect(r.body.details.issues[0].path).toBe('patch');
    expect(r.body.details.issues[0].message).toMatch(/colour/);
  });

  it('refuses an oversized body with 413 before reading it all', async () => {
    const r = await t.call('settings.set', JSON.stringify({ patch: {}, pad: 'x'.repeat(200 * 1024) }));
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({ code: 'payload_too_large', details: { limit: 64 * 1024 } });
  });

  it('refuses a body that is not JSON with 415', async () => {
    const r = await t.call('settings.get', 'a=b', { headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(415);
    expect(r.body.code).toBe('unsupported_media_type');
  });

  it('serves resource lists over GET with paging, sorting and filters', async () => {
    for (let i = 0; i < 3; i++) await t.call('settings.set', { patch: { pageSize: 20 + i } });
    const h = { Authorization: `Bearer ${t.server.token}` };
    const r = await fetch(`${t.base}/api/v1/audit?limit=2&offset=0&sort=-id&filter=action:settings.set&filter=result:ok`, { headers: h });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { items: { id: number; action: string; params: { patch: { pageSize: number } } }[]; total: number };
    expect(body.total).toBe(3);
    expect(body.items).toHaveLength(2);
    expect(body.items[0]!.id).toBeGreaterThan(body.items[1]!.id);
    expect(body.items[0]!.params.patch.pageSize).toBe(22);
    const q = (await (await fetch(`${t.base}/api/v1/audit?q=settings`, { headers: h })).json()) as { total: number };
    expect(q.total).toBeGreaterThanOrEqual(3);
    const badSort = await fetch(`${t.base}/api/v1/tasks?sort=-password`, { headers: h });
    expect(badSort.status).toBe(400);
    expect(await badSort.json()).toMatchObject({ code: 'validation', details: { issues: [{ path: 'sort' }] } });
    const badLimit = await fetch(`${t.base}/api/v1/tasks?limit=5000`, { headers: h });
    expect(badLimit.status).toBe(400);
    expect(((await badLimit.json()) as { details: { issues: { path: string }[] } }).details.issues[0]!.path).toBe('limit');
    const unknownParam = await fetch(`${t.base}/api/v1/tasks?colour=red`, { headers: h });
    expect(unknownParam.status).toBe(400);
    const unknown = await fetch(`${t.base}/api/v1/widgets`, { headers: h });
    expect(unknown.status).toBe(404);
  });

  it('publishes an OpenAPI document covering every command', async () => {
    const r = await fetch(`${t.base}/api/v1/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    for (const name of Object.keys(commands)) expect(doc.paths[`/api/v1/${name}`]).toBeDefined();
    expect(doc.paths['/api/v1/tasks']).toBeDefined();
    expect(doc.paths['/api/v1/audit']).toBeDefined();
  });

  it('streams events over the WebSocket only with the token', async () => {
    const url = `ws://127.0.0.1:${t.server.port}/api/v1/events`;
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(url);
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(refused).toBe(401);

    const ws = new WebSocket(`${url}?token=${t.server.token}`);
    await new Promise((r) => ws.once('open', r));
    const seen: SkydeckEvent[] = [];
    ws.on('message', (d) => seen.push(JSON.parse(String(d)) as SkydeckEvent));
    const r = await t.call('system.backup', { pagesPerStep: 1 });
    expect(r.status).toBe(200);
    const finished = await t.core.engine.waitFor(r.body.taskId);
    expect(finished.status).toBe('succeeded');
    await new Promise((res) => setTimeout(res, 100));
    ws.close();
    const mine = seen.filter((e) => e.type === 'task.updated' && e.task.id === r.body.taskId);
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(mine.at(-1)).toMatchObject({ task: { status: 'succeeded', progress: 100 } });
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: t.server.port, path: '/api/v1/system.info', method: 'POST', headers: { Host: 'evil.example:80', Authorization: `Bearer ${t.server.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('serves the renderer with a CSP, routes to index.html, and refuses traversal', async () => {
    const index = await fetch(`${t.base}/hosts`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await index.text()).toMatch(/<title>Skydeck/);
    const asset = await fetch(`${t.base}/assets/app.js`);
    expect(asset.headers.get('cache-control')).toMatch(/immutable/);
    expect((await fetch(`${t.base}/assets/missing.js`)).status).toBe(404);
    const trav = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: t.server.port, path: '/..%2f..%2fetc%2fpasswd' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect([403, 404]).toContain(trav);
  });

  it('writes an audit row for each mutating call, failed ones included', async () => {
    const before = (await t.call('audit.list', { filter: ['action:settings.reset'] })).body.total;
    await t.call('settings.reset', { keys: ['pageSize'] });
    await t.call('settings.reset', { keys: ['nope'] });
    const after = (await t.call('audit.list', { filter: ['action:settings.reset'], sort: '-id' })).body;
    expect(after.total).toBe(before + 2);
    expect(after.items[0]).toMatchObject({ result: 'error', errorCode: 'validation', actor: expect.stringMatching(/^api:/) });
    expect(after.items[1]).toMatchObject({ result: 'ok', params: { keys: ['pageSize'] } });
    // Reads are not audited.
    expect((await t.call('audit.list', { filter: ['action:settings.get'] })).body.total).toBe(0);
  });
});
