import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { startAliyunFake, type AliyunFake } from '../../scripts/peers/clouds/aliyun/fake.mjs';
import { startTencentFake, type TencentFake } from '../../scripts/peers/clouds/tencent/fake.mjs';
import { startQemuVnc, type QemuVnc } from '../../scripts/peers/qemu-vnc.mjs';
import { CONSOLE_CLOSE } from '@shared/contract/consoles';
import { testServer } from '../test/helpers';
import { aliyunDriver } from '../clouds/aliyun';
import { tencentDriver } from '../clouds/tencent';
import { vncAuthResponse } from './des';
import { openProviderVnc } from './cloud-vnc';
import { closed, openWs, rfbHandshake } from './testing';

/**
 * The providers' own VNC consoles of cloud guests, end to end with real parts: the official SDKs against the Alibaba
 * Cloud and Tencent Cloud fakes (signatures verified), whose DescribeInstanceVncUrl hands out one-time ws:// URLs relayed
 * to a real QEMU VNC server (Alibaba's with a VNC password, as its instances ask for one), reached through Skydeck's
 * console ticket WebSocket. The provider's URL stays in the main process.
 */

const VNC_PASSWORD = 'ali123';
let qemuAli: QemuVnc;
let qemuTc: QemuVnc;
let ali: AliyunFake;
let tc: TencentFake;
let tcExpired: TencentFake;
let t: Awaited<ReturnType<typeof testServer>>;

const wsUrl = (ticket: { path: string }) => `ws://127.0.0.1:${t.server.port}${ticket.path}`;

async function addAccount(body: Record<string, unknown>): Promise<string> {
  const r = await t.call('clouds.add', body);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const task = await t.core.engine.waitFor(r.body.taskId);
  expect(task.status, JSON.stringify(task.error)).toBe('succeeded');
  return r.body.account.account.id as string;
}
const guestOf = (accountId: string, status: string) =>
  t.core.db.prepare('SELECT id, name, status FROM guests WHERE cloud_account_id = ? AND status = ? ORDER BY name LIMIT 1').get(accountId, status) as { id: string; name: string; status: string };

/** Asks for the whole screen and reads the FramebufferUpdate header: message type 0 and at least one rectangle. */
async function firstUpdate(ws: WebSocket, init: Awaited<ReturnType<typeof rfbHandshake>>): Promise<number> {
  const req = Buffer.alloc(10);
  req.writeUInt8(3, 0);
  req.writeUInt8(0, 1);
  req.writeUInt16BE(init.width, 6);
  req.writeUInt16BE(init.height, 8);
  ws.send(req);
  const head = await init.reader.read(4);
  expect(head[0]).toBe(0);
  return head.readUInt16BE(2);
}

beforeAll(async () => {
  [qemuAli, qemuTc] = await Promise.all([startQemuVnc({ password: VNC_PASSWORD }), startQemuVnc()]);
  [ali, tc, tcExpired, t] = await Promise.all([
    startAliyunFake({ instances: 12, regions: 1, vnc: { host: qemuAli.host, port: qemuAli.port } }),
    startTencentFake({ instances: 12, regions: 1, vnc: { host: qemuTc.host, port: qemuTc.port } }),
    // Every URL of this one has expired by the time anyone opens it.
    startTencentFake({ instances: 4, regions: 1, vnc: { host: qemuTc.host, port: qemuTc.port }, vncUrlTtlMs: 1 }),
    testServer(),
  ]);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await Promise.all([ali?.close(), tc?.close(), tcExpired?.close()]);
  await Promise.all([qemuAli?.stop(), qemuTc?.stop()]);
});

describe('cloud guest consoles through the provider VNC proxy', () => {
  let aliAccount = '';
  let tcAccount = '';

  it('declares the console capability for Alibaba Cloud and Tencent Cloud only where the driver has it', async () => {
    const p = (await t.call('clouds.providers', {})).body.items as { provider: string; capabilities: { operations: string[] } }[];
    expect(p.find((x) => x.provider === 'aliyun')!.capabilities.operations).toContain('console');
    expect(p.find((x) => x.provider === 'tencent')!.capabilities.operations).toContain('console');
    expect(p.find((x) => x.provider === 'aws')!.capabilities.operations).not.toContain('console');
  });

  it('Alibaba Cloud: the RFB handshake completes with the instance VNC password and a framebuffer update arrives', async () => {
    aliAccount = await addAccount({ name: 'ali', credentials: { provider: 'aliyun', accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret }, endpoint: ali.url });
    const g = guestOf(aliAccount, 'running');
    const ticket = (await t.call('consoles.open', { kind: 'vnc', guestId: g.id })).body;
    expect(ticket).toMatchObject({ kind: 'vnc', protocol: 'rfb', title: `${g.name} (ali)`, vnc: { passwordSet: true, proxyAuth: false } });
    // The provider's URL is not in the answer.
    expect(JSON.stringify(ticket)).not.toMatch(/127\.0\.0\.1:\d+\/websocket|[?&]s=/);
    const ws = await openWs(wsUrl(ticket), 'binary');
    const init = await rfbHandshake(ws, { respond: (c) => vncAuthResponse(VNC_PASSWORD, c) });
    expect(init.securityTypes).toEqual([2]);
    expect([init.width, init.height]).toEqual([720, 400]);
    expect(await firstUpdate(ws, init)).toBeGreaterThan(0);
    ws.close();
    expect(ali.vnc.stats).toMatchObject({ issued: 1, relayed: 1 });
    expect(ali.requests.filter((r) => r.action === 'DescribeInstanceVncUrl').every((r) => r.signature === 'ACS3-HMAC-SHA256' && r.status === 200)).toBe(true);
  }, 60_000);

  it('Alibaba Cloud with the VNC password stored: the proxy answers it and the browser sees no authentication', async () => {
    const g = guestOf(aliAccount, 'running');
    expect((await t.call('consoles.setVncPassword', { guestId: g.id, password: VNC_PASSWORD })).status).toBe(200);
    const ticket = (await t.call('consoles.open', { kind: 'vnc', guestId: g.id })).body;
    expect(ticket.vnc).toEqual({ passwordSet: true, proxyAuth: true });
    const ws = await openWs(wsUrl(ticket), 'binary');
    const init = await rfbHandshake(ws);
    expect(init.securityTypes).toEqual([1]);
    expect(await firstUpdate(ws, init)).toBeGreaterThan(0);
    ws.close();
    await t.call('consoles.setVncPassword', { guestId: g.id, password: null });
  }, 60_000);

  it('Tencent Cloud: no VNC password, the handshake completes and a framebuffer update arrives', async () => {
    tcAccount = await addAccount({ name: 'tc', credentials: { provider: 'tencent', secretId: tc.secretId, secretKey: tc.secretKey }, endpoint: tc.url });
    const g = guestOf(tcAccount, 'running');
    const ticket = (await t.call('consoles.open', { kind: 'vnc', guestId: g.id })).body;
    expect(ticket.vnc).toEqual({ passwordSet: false, proxyAuth: false });
    const ws = await openWs(wsUrl(ticket), 'binary');
    const init = await rfbHandshake(ws);
    expect(init.securityTypes).toEqual([1]);
    expect(await firstUpdate(ws, init)).toBeGreaterThan(0);
    ws.close();
    // The ticket was for one use.
    await expect(openWs(wsUrl(ticket), 'binary')).rejects.toThrow('HTTP 401');
  }, 60_000);

  it("the provider's URL is good for one connection: a reused token is refused with a clear error", async () => {
    const s = await tencentDriver.connect({ accountId: 'x', provider: 'tencent', endpoint: tc.url, credentials: { secretId: tc.secretId, secretKey: tc.secretKey } });
    const region = tc.regions[0]!;
    const running = tc.state.instances().find((i) => i.Region === region && i.InstanceState === 'RUNNING')!;
    const e = await s.vncConsole(region, running.InstanceId);
    expect(e).toMatchObject({ url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/vnc\?s=/), passwordRequired: false, validMs: 15_000 });
    const first = await openProviderVnc(e.url, 'tc');
    first.destroy();
    await expect(openProviderVnc(e.url, 'tc')).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/refused the console URL \(HTTP 403: the VNC URL is unknown or was already used\).*valid once/) });
    s.close();
    const a = await aliyunDriver.connect({ accountId: 'y', provider: 'aliyun', endpoint: ali.url, credentials: { accessKeyId: ali.accessKeyId, accessKeySecret: ali.accessKeySecret } });
    const aliRunning = ali.state.instances().find((i) => i.Status === 'Running')!;
    expect(await a.vncConsole(aliRunning.RegionId, aliRunning.InstanceId)).toMatchObject({ url: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/websocket\/\?s=/), passwordRequired: true });
    a.close();
  }, 30_000);

  it('an expired URL ends the console with its own close code and says why', async () => {
    const id = await addAccount({ name: 'tc-expired', credentials: { provider: 'tencent', secretId: tcExpired.secretId, secretKey: tcExpired.secretKey }, endpoint: tcExpired.url });
    const g = guestOf(id, 'running');
    const ticket = (await t.call('consoles.open', { kind: 'vnc', guestId: g.id })).body;
    const ws = await openWs(wsUrl(ticket), 'binary');
    const end = await closed(ws);
    expect(end.code).toBe(CONSOLE_CLOSE.cloudUrlRefused);
    expect(end.reason).toMatch(/tc-expired \(tencent\)'s console proxy refused the console URL \(HTTP 403: the VNC URL has expired\)/);
    expect(tcExpired.vnc.stats.refused).toEqual(['the VNC URL has expired']);
  }, 30_000);

  it('a stopped instance is refused at consoles.open, before any URL is asked for', async () => {
    const g = guestOf(tcAccount, 'ready');
    const before = tc.vnc.stats.issued;
    const r = await t.call('consoles.open', { kind: 'vnc', guestId: g.id });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'conflict', details: { reason: 'not_running', status: 'ready' } });
    expect(tc.vnc.stats.issued).toBe(before);
  });

  it('never writes the provider URL into the log', () => {
    expect(t.lines.join('\n')).not.toMatch(/[?&]s=[0-9a-f]{16}/);
  });
});
