import type { testServer } from '../test/helpers';

/** Helpers shared by the KVM integration tests (kvm.test.ts, libvirt-real.test.ts). */
type Server = Awaited<ReturnType<typeof testServer>>;

/** Calls the API through the real HTTP server; anything but 200 throws with the answer. */
export function kvmApi(server: () => Server) {
  const ok = async (command: string, body: unknown) => {
    const r = await server().call(command, body);
    if (r.status !== 200) throw new Error(`${command} → ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };
  return {
    ok,
    task: (id: string, ms = 90_000) => server().core.engine.waitFor(id, ms),
    guestsOn: async (hostId: string) => (await ok('guests.list', { filter: [`host_id:${hostId}`], limit: 100 })).items as Record<string, any>[],
  };
}

/** Polls until `fn` answers something truthy (errors count as "not yet"), or fails naming what it waited for. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined | false> | T | null | undefined | false, ms = 30_000, everyMs = 200): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
