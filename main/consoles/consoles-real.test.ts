import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSshHosts, type SshHost, type SshHosts } from '../../scripts/peers/ssh-hosts.mjs';
import { buildTinyGuest, type TinyGuest } from '../../scripts/peers/guest-image.mjs';
import { CONSOLE_CLOSE, TERMINAL_WINDOW_BYTES } from '@shared/contract/consoles';
import { testServer } from '../test/helpers';
import { kvmApi, until } from '../kvm/testing';
import { vncAuthResponse } from './des';
import { TerminalClient, closed, openWs, rfbHandshake } from './testing';

/**
 * Consoles end to end against real parts: an sshd peer host with a real libvirtd (QEMU under TCG) running the tiny
 * busybox guest with a VNC display (password-protected) and a serial port. Every console goes through the headless
 * server's WebSocket with a one-time ticket and through the host's one SSH connection: VNC to QEMU's VNC server, the
 * serial console through `virsh console`, a shell on the host, and SSH tunnelled through the host (to the host's own
 * sshd: the busybox guest has none).
 */

const GUEST_IP = '192.168.254.11';
const VNC_PASSWORD = 'sky12345';
let peers: SshHosts;
let H: SshHost;
let tiny: TinyGuest;
let t: Awaited<ReturnType<typeof testServer>>;
const { ok, task } = kvmApi(() => t);
let hostId = '';
let guestId = '';

const wsUrl = (ticket: { path: string }) => `ws://127.0.0.1:${t.server.port}${ticket.path}`;
const accepted = () => (readFileSync(H.sshdLogPath, 'utf8').match(/Accepted /g) ?? []).length;

beforeAll(async () => {
  [peers, tiny, t] = await Promise.all([startSshHosts({ count: 1, prefix: `skdc${process.pid % 100000}`, withLibvirt: true }), buildTinyGuest(), testServer()]);
  H = peers.hosts[0]!;
  const key = await ok('hosts.probeKey', { address: H.address, port: H.port });
  const added = await ok('hosts.add', { name: H.name, address: H.address, port: H.port, username: 'root', auth: { method: 'key', privateKey: H.users.root.privateKey }, hostKeyFingerprint: key.fingerprint, libvirtUri: H.libvirtd!.uri });
  hostId = added.host.id;
  expect((await task(added.taskId, 120_000)).status).toBe('succeeded');
  const created = await ok('guests.create', {
    name: 'console-1',
    hostId,
    vcpu: 1,
    memoryMb: 128,
    source: { kind: 'kernel', kernel: tiny.kernel, initrd: tiny.initrd, cmdline: `console=ttyS0 skydeck.ip=${GUEST_IP}/24` },
    diskGb: 0.05,
    nic: { bridge: 'br0' },
    vnc: true,
    vncPassword: VNC_PASSWORD,
  });
  guestId = created.guest.id;
  const done = await task(created.taskId, 90_000);
  expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
  // Booted: its serial shell answers (read from inside the host, not through Skydeck).
  await until('the guest to answer ping', async () => (await H.exec(`busybox ping -c1 -W1 ${GUEST_IP} >/dev/null 2>&1`)).code === 0, 90_000, 300);
}, 300_000);

afterAll(async () => {
  await t?.close();
  await peers?.stop();
}, 60_000);

describe('consoles through the host SSH connection', () => {
  let sshConnections = 0;

  it('VNC: the proxy answers the VNC password itself and the browser sees no authentication', async () => {
    sshConnections = accepted();
    const ticket = await ok('consoles.open', { kind: 'vnc', guestId });
    expect(ticket).toMatchObject({ kind: 'vnc', protocol: 'rfb', url: null, vnc: { passwordSet: true, proxyAuth: true } });
    expect(ticket.path).toMatch(/^\/api\/v1\/consoles\/[A-Za-z0-9_-]{43}$/);
    const ws = await openWs(wsUrl(ticket), 'binary');
    const init = await rfbHandshake(ws);
    expect(init.version).toBe('RFB 003.008\n');
    expect(init.securityTypes).toEqual([1]);
    expect(init.width).toBeGreaterThanOrEqual(640);
    expect(init.height).toBeGreaterThanOrEqual(400);
    expect(init.name).toContain('console-1');
    ws.close();
    // The ticket was for one use.
    await expect(openWs(wsUrl(ticket), 'binary')).rejects.toThrow('HTTP 401');
  }, 60_000);

  it('VNC without a stored password: the browser gets the VNC challenge and answers it', async () => {
    await ok('consoles.setVncPassword', { guestId, password: null });
    const ticket = await ok('consoles.open', { kind: 'vnc', guestId });
    expect(ticket.vnc).toEqual({ passwordSet: true, proxyAuth: false });
    const ws = await openWs(wsUrl(ticket), 'binary');
    const init = await rfbHandshake(ws, { respond: (c) => vncAuthResponse(VNC_PASSWORD, c) });
    expect(init.securityTypes).toEqual([2]);
    expect(init.name).toContain('console-1');
    ws.close();
  }, 60_000);

  it('VNC with a wrong stored password: the socket closes with "refused" and the reason', async () => {
    await ok('consoles.setVncPassword', { guestId, password: 'wrong-pw' });
    const ticket = await ok('consoles.open', { kind: 'vnc', guestId });
    const ws = await openWs(wsUrl(ticket), 'binary');
    const end = await closed(ws);
    expect(end.code).toBe(CONSOLE_CLOSE.refused);
    expect(end.reason).toMatch(/refused the stored password/);
    await ok('consoles.setVncPassword', { guestId, password: VNC_PASSWORD });
  }, 60_000);

  it('refuses wrong tickets before any upgrade', async () => {
    await expect(openWs(`ws://127.0.0.1:${t.server.port}/api/v1/consoles/${'A'.repeat(43)}`, 'binary')).rejects.toThrow('HTTP 401');
    await expect(openWs(`ws://127.0.0.1:${t.server.port}/api/v1/consoles/nonsense`, 'binary')).rejects.toThrow('HTTP 401');
  });

  it('serial console: virsh console on the host, typed into and read back', async () => {
    const ticket = await ok('consoles.open', { kind: 'serial', guestId, size: { cols: 100, rows: 30 } });
    expect(ticket).toMatchObject({ protocol: 'terminal', title: 'console-1 · serial' });
    const c = await TerminalClient.open(wsUrl(ticket));
    // Typed at once: the server holds it until virsh has attached to the console.
    c.type('\r');
    c.type('echo SERIAL$((6*7))\r');
    await c.waitFor('the echo through the serial line', (x) => x.text().includes('SERIAL42'), 30_000);
    c.ws.close();
  }, 60_000);

  it('host terminal: a PTY on the existing connection, resize reaches it, output is paced by acks', async () => {
    const ticket = await ok('consoles.open', { kind: 'host-ssh', hostId, size: { cols: 90, rows: 20 } });
    expect(ticket.title).toBe(`root@${H.name}`);
    const c = await TerminalClient.open(wsUrl(ticket));
    c.type('echo HOST$((6*7)) $(hostname)\r');
    await c.waitFor('the command output', (x) => x.text().includes(`HOST42 ${H.name}`));
    c.ws.send(JSON.stringify({ t: 'resize', cols: 132, rows: 43 }));
    c.type('stty size\r');
    await c.waitFor('the new size', (x) => x.text().includes('43 132'));

    // 50 MB of output while the client acknowledges nothing: the server stops at its window…
    c.autoAck = false;
    c.ack();
    c.type("head -c 50000000 /dev/zero | tr '\\0' x; echo; echo END$((40+2))\r");
    await c.waitFor('a full window', (x) => x.received - x.acked >= TERMINAL_WINDOW_BYTES);
    await new Promise((r) => setTimeout(r, 800));
    const stalled = c.received - c.acked;
    expect(stalled).toBeLessThanOrEqual(TERMINAL_WINDOW_BYTES + 256 * 1024);
    await new Promise((r) => setTimeout(r, 500));
    expect(c.received - c.acked).toBe(stalled);
    // …and acknowledging lets it all through, never more than the window in flight.
    c.autoAck = true;
    c.ack();
    await c.waitFor('the end of 50 MB', (x) => x.text().includes('END42'), 120_000);
    expect(c.received).toBeGreaterThan(50_000_000);
    expect(c.maxUnacked).toBeLessThanOrEqual(TERMINAL_WINDOW_BYTES + 256 * 1024);
    c.type('exit\r');
    const end = await closed(c.ws);
    expect(end.code).toBe(CONSOLE_CLOSE.ended);
    expect(c.messages.at(-1)).toMatchObject({ t: 'exit', code: 0 });
  }, 180_000);

  it('opened no SSH connection of its own for VNC, serial and host terminals', () => {
    expect(accepted()).toBe(sshConnections);
  });

  it('SSH tunnelled through the host: host key trusted on first use, password auth, changed keys refused', async () => {
    // The busybox guest runs no sshd: the SSH server reached through the host is the host's own, at its address.
    const target = { kind: 'guest-ssh', guestId, address: H.address, username: H.users.test.username };
    const unknown = await t.call('consoles.open', { ...target, auth: { method: 'password', password: H.users.test.password } });
    expect(unknown.status).toBe(409);
    expect(unknown.body.details).toMatchObject({ reason: 'host_key_unknown', fingerprint: H.hostKeyFingerprint });
    const ticket = await ok('consoles.open', { ...target, auth: { method: 'password', password: H.users.test.password }, acceptFingerprint: unknown.body.details.fingerprint });
    const c = await TerminalClient.open(wsUrl(ticket));
    c.type('echo WHO=$(id -un)\r');
    await c.waitFor('the remote user', (x) => x.text().includes(`WHO=${H.users.test.username}`));
    c.ws.close();
    // Trusted now: no fingerprint needed; a wrong password is the command's error, not a dead socket.
    const bad = await t.call('consoles.open', { ...target, auth: { method: 'password', password: 'not-the-password' } });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.body.message).toMatch(/auth|password|denied/i);
    // Another key accepted for the same address: refused as a changed key.
    const other = await t.call('consoles.open', { ...target, auth: { method: 'password', password: H.users.test.password }, acceptFingerprint: `SHA256:${'A'.repeat(43)}` });
    expect(other.status).toBe(409);
    expect(other.body.details.reason).toBe('host_key_changed');
  }, 90_000);

  it('lists open sessions and closes one on request', async () => {
    const ticket = await ok('consoles.open', { kind: 'host-ssh', hostId });
    const c = await TerminalClient.open(wsUrl(ticket));
    await c.waitFor('ready', (x) => x.messages.some((m) => m.t === 'ready'));
    const list = await ok('consoles.list', {});
    expect(list.items).toEqual(expect.arrayContaining([expect.objectContaining({ sessionId: ticket.sessionId, kind: 'host-ssh', state: 'open' })]));
    const end = closed(c.ws);
    await ok('consoles.close', { sessionId: ticket.sessionId });
    expect((await end).code).toBe(CONSOLE_CLOSE.closedByUser);
    expect((await ok('consoles.list', {})).items.find((s: { sessionId: string }) => s.sessionId === ticket.sessionId)).toBeUndefined();
  }, 30_000);

  it('answers an honest error for a guest that is not running', async () => {
    expect((await task((await ok('guests.action', { id: guestId, action: 'forceStop' })).taskId)).status).toBe('succeeded');
    const r = await t.call('consoles.open', { kind: 'vnc', guestId });
    expect(r.status).toBe(409);
    expect(r.body).toMatchObject({ code: 'conflict', details: { reason: 'not_running', status: 'ready' } });
    expect(r.body.message).toMatch(/console-1 is not running \(status ready\)/);
    const serial = await t.call('consoles.open', { kind: 'serial', guestId });
    expect(serial.body.details.reason).toBe('not_running');
  }, 60_000);

  it('answers an honest error when the host cannot be reached, instead of a socket that never connects', async () => {
    await H.killSshd();
    try {
      const r = await t.call('consoles.open', { kind: 'host-ssh', hostId });
      expect(r.status).toBe(502);
      expect(r.body.code).toBe('unreachable');
      expect(r.body.message).toMatch(new RegExp(`${H.address.replace(/\./g, '\\.')}|${H.name}`));
    } finally {
      await H.startSshd();
    }
  }, 60_000);
});
