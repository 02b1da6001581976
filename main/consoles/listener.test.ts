import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startConsoleListener } from './listener';

/** The desktop app's loopback console listener: only console upgrades from the app's own pages reach the gateway. */
function upgrade(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers } });
    req.on('response', (res) => resolve(res.statusCode ?? 0));
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 101);
    });
    req.on('error', reject);
    req.end();
  });
}

let stop: (() => Promise<void>) | null = null;
afterEach(async () => {
  await stop?.();
  stop = null;
});

describe('console listener', () => {
  it('announces its origin and hands console upgrades from the app origin to the gateway', async () => {
    const gateway = {
      setOrigin: vi.fn(),
      handleUpgrade: vi.fn((_req, socket: import('node:stream').Duplex) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n')),
    };
    const l = await startConsoleListener(gateway, { allowedOrigins: ['app://skydeck'] });
    stop = l.close;
    expect(l.origin).toBe(`ws://127.0.0.1:${l.port}`);
    expect(gateway.setOrigin).toHaveBeenCalledWith(l.origin);

    expect(await upgrade(l.port, '/api/v1/consoles/abc', { Origin: 'app://skydeck' })).toBe(401);
    expect(gateway.handleUpgrade).toHaveBeenCalledTimes(1);
    // Another site's page, another host name (DNS rebinding), another path: refused here.
    expect(await upgrade(l.port, '/api/v1/consoles/abc', { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgrade(l.port, '/api/v1/consoles/abc', { Origin: 'app://skydeck', Host: `evil.example:${l.port}` })).toBe(403);
    expect(await upgrade(l.port, '/api/v1/events', { Origin: 'app://skydeck' })).toBe(404);
    expect(gateway.handleUpgrade).toHaveBeenCalledTimes(1);

    await l.close();
    stop = null;
    expect(gateway.setOrigin).toHaveBeenLastCalledWith(null);
  });
});
