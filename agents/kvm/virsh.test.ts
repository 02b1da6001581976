import { afterEach, describe, expect, it } from 'vitest';
import { RPC_CANCELLED, RPC_LIBVIRT, RPC_TIMEOUT } from '@shared/agent/protocol';
import { AgentError } from './errors';
import { Libvirt } from './libvirt';
import { silentLogger } from './log';
import { commandOutput, splitErrors, virshQuote, VirshError, VirshSession } from './virsh';

/** The long-lived virsh session against the real virsh binary (test driver), plus its pure helpers. */
const sessions: VirshSession[] = [];
function session(uri = 'test:///default', defaultTimeoutMs?: number): VirshSession {
  const s = new VirshSession({ uri, log: silentLogger, ...(defaultTimeoutMs ? { defaultTimeoutMs } : {}) });
  sessions.push(s);
  return s;
}
afterEach(() => {
  for (const s of sessions.splice(0)) s.close();
});

describe('virsh session', () => {
  it('passes arguments through virsh’s own parser unchanged', async () => {
    const s = session();
    for (const arg of ['plain', 'two words', "it's", 'semi;colon', '#not a comment', 'back\\slash', '"double"', '$HOME', 'ünïcödé', "mix 'of' \"all\" ; # \\ $"]) {
      // (virsh -q's echo ends without a newline; another version might add one.)
      expect((await s.run(['echo', arg])).replace(/\n$/, '')).toBe(arg);
    }
  });

  it('keeps state across commands (one process) and attributes errors to their command', async () => {
    const s = session();
    const results = await Promise.allSettled([s.run(['domstate', '--domain', 'test']), s.run(['dominfo', '--domain', 'nope']), s.run(['list', '--all', '--name']), s.run(['suspend', '--domain', 'test']), s.run(['domstate', '--domain', 'test'])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect((results[0] as PromiseFulfilledResult<string>).value.trim()).toBe('running');
    const err = (results[1] as PromiseRejectedResult).reason as VirshError;
    expect(err).toBeInstanceOf(VirshError);
    expect(err.virsh).toBe("failed to get domain 'nope'");
    expect((results[2] as PromiseFulfilledResult<string>).value.trim()).toBe('test');
    expect((results[4] as PromiseFulfilledResult<string>).value.trim()).toBe('paused');
  });

  it('reads long command lines (readline scrolls their echo) and long output', async () => {
    const s = session();
    const long = 'x'.repeat(3000);
    expect((await s.run(['echo', long])).trim()).toBe(long);
    const xml = await s.run(['dumpxml', '--domain', 'test']);
    expect(xml.trim().startsWith('<domain')).toBe(true);
    expect(xml.trim().endsWith('</domain>')).toBe(true);
  });

  it('answers hundreds of queued commands in order', async () => {
    const s = session();
    const outs = await Promise.all(Array.from({ length: 300 }, (_, i) => s.run(['echo', `n${i}`])));
    expect(outs.map((o) => o.trim())).toEqual(Array.from({ length: 300 }, (_, i) => `n${i}`));
  });

  it('times out a stuck command, restarts virsh, and serves the queue', async () => {
    const s = session();
    await s.run(['suspend', '--domain', 'test']);
    const pid = s.pid;
    const stuck = s.run(['event', '--all', '--timeout', '10'], { timeoutMs: 300 });
    const after = s.run(['domstate', '--domain', 'test']);
    await expect(stuck).rejects.toMatchObject({ code: RPC_TIMEOUT });
    // A fresh process: the test driver's state starts over (the domain runs again).
    expect((await after).trim()).toBe('running');
    expect(s.pid).not.toBe(pid);
  });

  it('restarts virsh when it dies between commands', async () => {
    const s = session();
    await s.run(['version']);
    const pid = s.pid!;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect((await s.run(['domstate', '--domain', 'test'])).trim()).toBe('running');
    expect(s.pid).not.toBe(pid);
  });

  it('drops the output of a cancelled command instead of handing it to the next', async () => {
    const s = session();
    const ac = new AbortController();
    const p = s.run(['event', '--all', '--timeout', '1'], { signal: ac.signal });
    const next = s.run(['echo', 'next']);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: RPC_CANCELLED });
    expect((await next).trim()).toBe('next');
    const queued = new AbortController();
    const q = s.run(['echo', 'never'], { signal: queued.signal });
    queued.abort();
    await expect(q).rejects.toMatchObject({ code: RPC_CANCELLED });
  });

  it('reports why virsh cannot connect (as RPC_LIBVIRT through Libvirt)', async () => {
    const lv = new Libvirt({ uri: 'qemu+unix:///system?socket=/nonexistent/libvirt-sock', log: silentLogger, tmpDir: '/tmp' });
    try {
      const e = await lv.virsh(['list']).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AgentError);
      expect((e as AgentError).code).toBe(RPC_LIBVIRT);
      expect((e as AgentError).message).toMatch(/failed to connect/i);
    } finally {
      lv.close();
    }
  });

  it('refuses control characters (readline would complete a tab, end the line at a newline)', async () => {
    const s = session();
    await expect(s.run(['echo', 'a\nb'])).rejects.toThrow(/control characters/);
    await expect(s.run(['echo', 'a\tb'])).rejects.toThrow(/control characters/);
    await expect(s.run(['echo', 'a\x01b'])).rejects.toThrow(/control characters/);
    expect((await s.run(['echo', 'still fine'])).trim()).toBe('still fine');
  });
});

describe('virsh helpers', () => {
  it('quotes only what needs quoting', () => {
    expect(virshQuote('test')).toBe('test');
    expect(virshQuote('/var/lib/x.qcow2')).toBe('/var/lib/x.qcow2');
    expect(virshQuote('a b')).toBe("'a b'");
    expect(virshQuote("it's")).toBe("'it'\\''s'");
    expect(virshQuote('')).toBe("''");
  });

  it('cuts prompt, echo and marker lines from a slice', () => {
    const m = "echo '__SKD_ab' '3__'";
    expect(commandOutput(`virsh # list --name\ntest\nvm\nvirsh # ${m}\n`, m)).toBe('test\nvm\n');
    expect(commandOutput(`\nvirsh > \r<xxxxx long\nout\nvirsh > ${m}\n`, m)).toBe('out\n');
    expect(commandOutput(`virsh # snapshot-current --name\ns1virsh # ${m}\n`, m)).toBe('s1');
    expect(commandOutput(`virsh # pool-refresh tp\nvirsh # ${m}\n`, m)).toBe('');
  });

  it('separates error and warning lines', () => {
    expect(splitErrors("error: Failed to start domain 'x'\nerror: Requested operation is not valid\nwarning: odd\nok\n")).toEqual({ text: 'ok\n', errors: ["Failed to start domain 'x'", 'Requested operation is not valid'], warnings: ['odd'] });
    expect(splitErrors('error: Reconnected to the hypervisor\nfine').errors).toEqual([]);
  });
});
