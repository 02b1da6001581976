import type { Duplex } from 'node:stream';
import type Database from 'better-sqlite3';
import { WebSocket, createWebSocketStream } from 'ws';
import { ApiError } from '@shared/errors';
import type { CloudService } from '../clouds/service';
import type { CloudVncConsole } from '../clouds/types';
import { parseExtId } from '../clouds/sync';
import { toApiError } from '../clouds/retry';
import type { Vault } from '../vault/vault';
import { vncSecretId } from '../kvm/credentials';

/**
 * A cloud guest's display: the provider's own VNC console (Alibaba Cloud and Tencent Cloud `DescribeInstanceVncUrl`, a
 * one-time wss:// URL their web consoles hand to noVNC) opened by the main process as a WebSocket client and relayed
 * to the browser's noVNC through the usual console ticket. The URL is a credential (whoever holds it sees the screen):
 * it stays in this process and is never logged. The RFB stream passes through untouched, so a VNC password the
 * instance asks for (Alibaba Cloud's) is answered by noVNC's password prompt, or by the proxy when Skydeck holds it.
 *
 * Whether a cloud has such a console is its driver's capability `console`, not its name.
 */

/** How long the provider may take to accept the WebSocket. */
const CONNECT_TIMEOUT_MS = 15_000;
/** A URL older than its validity minus this is asked for again at the upgrade instead of being tried. */
const URL_MARGIN_MS = 3_000;

export type CloudConsoleSource = Pick<CloudService, 'row' | 'session' | 'registry'>;

interface CloudGuestRow {
  id: string;
  name: string;
  status: string;
  external_id: string | null;
  cloud_account_id: string;
}

/** The guest when it is a cloud guest (it has a cloud account), else null. */
export function cloudGuestOf(db: Database.Database, guestId: string): CloudGuestRow | null {
  const g = db.prepare("SELECT id, name, status, external_id, cloud_account_id FROM guests WHERE id = ? AND provider <> 'kvm' AND cloud_account_id IS NOT NULL").get(guestId) as CloudGuestRow | undefined;
  return g ?? null;
}

/** Opens the provider's console WebSocket and answers it as the RFB byte stream, or fails saying why in plain words. */
export function openProviderVnc(url: string, who: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    // No subprotocol offered: the providers' noVNC pages offer none, and a proxy that answers none would be refused.
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs, perMessageDeflate: false, maxPayload: 16 << 20 });
    let settled = false;
    const fail = (e: ApiError) => {
      if (settled) return;
      settled = true;
      ws.terminate();
      reject(e);
    };
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body = (body + d).slice(0, 200)));
      const done = () => {
        req.destroy();
        const status = res.statusCode ?? 0;
        const said = body.replace(/\s+/g, ' ').trim();
        fail(
          status >= 500
            ? new ApiError('unreachable', `${who}'s console proxy failed (HTTP ${status}${said ? `: ${said}` : ''})`, { reason: 'console_proxy', httpStatus: status })
            : new ApiError('forbidden', `${who}'s console proxy refused the console URL (HTTP ${status}${said ? `: ${said}` : ''}): such a URL is valid once and for about 15 s; open the console again`, { reason: 'console_url_refused', httpStatus: status }),
        );
      };
      res.once('end', done);
      res.once('error', done);
    });
    // `on`, not `once`: terminating a socket that failed may report once more, and an unheard 'error' would throw.
    ws.on('error', (e: Error) => {
      const timedOut = /timed? ?out/i.test(e.message);
      fail(new ApiError(timedOut ? 'timeout' : 'unreachable', `${who}'s console proxy ${new URL(url).host} cannot be reached: ${e.message}`, { reason: 'console_proxy' }));
    });
    ws.once('open', () => {
      if (settled) return;
      settled = true;
      ws.binaryType = 'nodebuffer';
      resolve(createWebSocketStream(ws));
    });
  });
}

/** What consoles.open needs for a cloud guest's display: its title, the ticket's vnc facts and the connector. */
export async function prepareCloudVnc(o: { clouds: CloudConsoleSource; vault: Vault }, g: CloudGuestRow) {
  const account = o.clouds.row(g.cloud_account_id);
  const who = `${account.name} (${account.provider})`;
  if (!o.clouds.registry.get(account.provider).capabilities.operations.includes('console')) {
    throw new ApiError('not_supported', `guest ${g.name} is a ${account.provider} instance: its cloud offers no VNC console API`, { reason: 'no_console' });
  }
  if (g.status !== 'running') {
    throw new ApiError('conflict', `guest ${g.name} is not running (status ${g.status}): its display exists only while it runs; start it first`, { reason: 'not_running', status: g.status });
  }
  const { region, id } = parseExtId(g.external_id);
  const ask = async (): Promise<CloudVncConsole & { at: number }> => {
    try {
      const session = await o.clouds.session(g.cloud_account_id);
      return { ...(await session.vncConsole(region, id)), at: Date.now() };
    } catch (e) {
      throw toApiError(e);
    }
  };
  // Asked now, so that a refusal (credentials, status, permission) is consoles.open's answer, not a closed socket.
  let endpoint: (CloudVncConsole & { at: number }) | null = await ask();
  const passwordSet = endpoint.passwordRequired;
  const stored = passwordSet ? ((await o.vault.get(vncSecretId(g.id)))?.toString('utf8') ?? null) : null;
  return {
    title: `${g.name} (${account.name})`,
    targetId: g.id,
    vnc: { passwordSet, proxyAuth: stored !== null },
    connector: {
      protocol: 'rfb' as const,
      connect: async () => {
        // The URL is for one connection and a few seconds: a fresh one when it is used or about to expire.
        const e = endpoint && Date.now() - endpoint.at < endpoint.validMs - URL_MARGIN_MS ? endpoint : await ask();
        endpoint = null;
        return { remote: await openProviderVnc(e.url, who), proxyPassword: stored };
      },
    },
  };
}
