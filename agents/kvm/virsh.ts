import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cancelled, timedOut } from './errors';
import type { Logger } from './log';

/**
 * One long-lived interactive `virsh` per libvirt URI, fed commands on stdin.
 *
 * Why not a virsh process per command: with test:///default every process starts from a fresh in-memory state, and
 * with qemu:///system each process pays a new connection (50–100 ms). So commands go, one at a time, to one process.
 *
 * How output is delimited: after each command the session sends `echo '__SKD_<token>' '<n>__'`, whose output
 * `__SKD_<token> <n>__` cannot be mistaken for readline's echo of the command line itself (that one has the quotes).
 * stderr is merged into stdout by the shell (`2>&1`, one pipe, so the kernel keeps the write order) and stdbuf makes
 * both line-buffered, so a command's `error: …` lines land between its own prompt and the next marker.
 *
 * What a command's slice of the stream looks like (virsh -q, readline on a non-tty, TERM=dumb):
 *
 *     virsh # <readline's echo of the command, possibly \r-scrolled, never a \n>\n
 *     <output and error: lines>
 *     virsh # echo '__SKD_<token>' '<n>__'\n
 *     __SKD_<token> <n>__
 *
 * The first line and the last prompt line are cut away; what is left is the command's output.
 */
export class VirshError extends Error {
  constructor(
    message: string,
    /** virsh's full error text (the `error: ` lines without the prefix). */
    readonly virsh: string,
  ) {
    super(message);
    this.name = 'VirshError';
  }
}

export interface RunOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface VirshSessionOptions {
  uri: string;
  log: Logger;
  /** virsh binary; default `virsh` from PATH. */
  virsh?: string;
  defaultTimeoutMs?: number;
}

interface Pending {
  line: string;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  resolve: (out: string) => void;
  reject: (e: Error) => void;
  /** Set when the caller stopped waiting (cancel): the output is still read to keep the stream in step, then dropped. */
  abandoned: boolean;
  onAbort?: () => void;
}

/**
 * Quotes one argument for virsh's own command-line parser (shell-like: '…' is literal, '\'' inserts a quote).
 * Control characters cannot be passed at all: the line goes through readline, where a tab completes file names and
 * Ctrl-A moves the cursor (both seen to rewrite the command), and a newline ends it.
 */
export function virshQuote(arg: string): string {
  if (hasControlChars(arg)) throw new Error('a virsh argument cannot contain control characters (tab, line break…)');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Whether s holds a C0 control character or DEL (readline editing keys), other than those in `allowed`. */
export function hasControlChars(s: string, allowed = ''): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 || c === 0x7f) && !allowed.includes(s[i] ?? '')) return true;
  }
  return false;
}

const PROMPTS = ['virsh # ', 'virsh > '];
/** Lines virsh prints as errors that do not mean the command failed. */
const BENIGN_ERRORS = [
  /^Reconnected to the hypervisor/,
  // Printed asynchronously when libvirtd restarts, so it lands in whatever command comes next; virsh reconnects for
  // that command, which fails with its own error if it cannot.
  /^Disconnected from .* due to /,
];

export class VirshSession {
  private proc: ChildProcess | null = null;
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private currentSeq = 0;
  private timer: NodeJS.Timeout | null = null;
  private output = '';
  private seq = 0;
  private token = '';
  private closed = false;
  private lastExitText = '';

  constructor(readonly o: VirshSessionOptions) {}

  get uri(): string {
    return this.o.uri;
  }

  /** The virsh process's pid while one runs (logs and tests). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Runs one virsh command (argv, quoted here) and resolves with its output; rejects with VirshError on `error:`. */
  run(args: string[], opts: RunOptions = {}): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the virsh session is closed'));
    let line: string;
    try {
      line = args.map(virshQuote).join(' ');
    } catch (e) {
      return Promise.reject(e as Error);
    }
    if (opts.signal?.aborted) return Promise.reject(cancelled());
    return new Promise<string>((resolve, reject) => {
      const p: Pending = { line, timeoutMs: opts.timeoutMs ?? this.o.defaultTimeoutMs ?? 60_000, signal: opts.signal, resolve, reject, abandoned: false };
      if (opts.signal) {
        p.onAbort = () => {
          const i = this.queue.indexOf(p);
          if (i >= 0) this.queue.splice(i, 1);
          else p.abandoned = true;
          reject(cancelled());
        };
        opts.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.queue.push(p);
      this.pump();
    });
  }

  /** Ends the virsh process; queued and running commands fail. */
  close(): void {
    this.closed = true;
    for (const p of this.queue.splice(0)) this.settle(p, new Error('the virsh session is closed'));
    if (this.current) this.settle(this.current, new Error('the virsh session is closed'));
    this.current = null;
    this.kill();
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    const proc = this.proc ?? this.spawn();
    this.current = next;
    this.currentSeq = ++this.seq;
    this.timer = setTimeout(() => this.onTimeout(), next.timeoutMs);
    proc.stdin?.write(`${next.line}\necho '__SKD_${this.token}' '${this.currentSeq}__'\n`);
  }

  private spawn(): ChildProcess {
    this.token = randomBytes(6).toString('hex');
    this.output = '';
    // stdbuf (coreutils) makes virsh's stdio line-buffered; without it output still arrives, as readline flushes
    // stdout before every prompt, but an error could then precede the same command's stdout text.
    const script = 'if command -v stdbuf >/dev/null 2>&1; then exec stdbuf -oL -eL "$@" 2>&1; else exec "$@" 2>&1; fi';
    const proc = spawn('/bin/sh', ['-c', script, 'sh', this.o.virsh ?? 'virsh', '-q', '-c', this.o.uri], {
      stdio: ['pipe', 'pipe', 'pipe'],
      // C locale: parsers read English output. TERM=dumb and an empty inputrc: no escape sequences, no vi mode.
      env: { ...process.env, LC_ALL: 'C', LANG: 'C', TERM: 'dumb', INPUTRC: '/dev/null', VIRSH_HISTSIZE: '0' },
    });
    this.proc = proc;
    this.o.log.debug('virsh started', { uri: this.o.uri, pid: proc.pid });
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (d: string) => {
      if (this.proc === proc) this.onOutput(d);
    });
    proc.stderr?.on('data', (d: Buffer) => this.o.log.debug('virsh stderr', { text: d.toString().slice(0, 500) }));
    proc.stdin?.on('error', () => {}); // EPIPE when it died: 'exit' handles that
    proc.on('error', (e) => this.onExit(proc, null, e.message));
    // 'close', not 'exit': by then all its output has been read, including why it could not connect.
    proc.on('close', (code, sig) => this.onExit(proc, code, sig ? `signal ${sig}` : null));
    return proc;
  }

  private onOutput(data: string): void {
    const before = this.output.length;
    this.output += data;
    const p = this.current;
    if (!p) return;
    const marker = `__SKD_${this.token} ${this.currentSeq}__`;
    // Only the new data (and a marker split across chunks) needs searching: large outputs stay linear.
    const at = this.output.indexOf(marker, Math.max(0, before - marker.length));
    if (at < 0) return;
    const slice = this.output.slice(0, at);
    this.output = this.output.slice(at + marker.length);
    this.finish(p, commandOutput(slice, `echo '__SKD_${this.token}' '${this.currentSeq}__'`));
  }

  private finish(p: Pending, out: string): void {
    this.lastExitText = '';
    this.clearTimer();
    this.current = null;
    const { text, errors, warnings } = splitErrors(out);
    for (const w of warnings) this.o.log.debug('virsh warning', { text: w });
    this.settle(p, errors.length ? new VirshError(errors.join(': '), errors.join('\n')) : text);
    this.pump();
  }

  private onTimeout(): void {
    const p = this.current;
    this.timer = null;
    if (!p) return;
    this.o.log.warn('virsh command timed out; restarting virsh', { uri: this.o.uri, command: p.line.split(' ')[0], ms: p.timeoutMs });
    this.current = null;
    this.settle(p, timedOut(`virsh did not answer within ${p.timeoutMs / 1000} s`));
    // The process may be stuck in that command: a fresh one serves the queue.
    this.kill();
    this.pump();
  }

  private onExit(proc: ChildProcess, code: number | null, why: string | null): void {
    if (this.proc !== proc) return;
    this.proc = null;
    const text = splitErrors(this.output).errors.join(': ') || this.output.trim().slice(-500);
    this.output = '';
    // While libvirtd is down every command spawns a virsh that fails the same way: say so once, not every poll.
    if (text !== this.lastExitText) this.o.log.warn('virsh exited', { uri: this.o.uri, code, why, text: text.slice(0, 300) });
    this.lastExitText = text;
    const p = this.current;
    this.current = null;
    this.clearTimer();
    if (p) this.settle(p, new VirshError(text || `virsh exited (${why ?? `code ${code}`})`, text || `virsh exited (${why ?? `code ${code}`})`));
    // Queued commands get a new process; one that cannot connect fails each of them with its own error.
    this.pump();
  }

  private settle(p: Pending, r: string | Error): void {
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (p.abandoned) return;
    p.abandoned = true;
    if (typeof r === 'string') p.resolve(r);
    else p.reject(r);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private kill(): void {
    const proc = this.proc;
    this.proc = null;
    this.output = '';
    if (proc && proc.exitCode === null) {
      proc.stdin?.end();
      proc.kill('SIGKILL');
    }
  }
}

/** Cuts readline's prompt+echo line from the front and the marker command's prompt line from the end. */
export function commandOutput(slice: string, markerCommand: string): string {
  // Leading: the newline a non-quiet echo leaves, then the prompt + the echoed command line up to its \n.
  let s = slice.replace(/^\n*/, '');
  const firstNl = s.indexOf('\n');
  s = firstNl >= 0 ? s.slice(firstNl + 1) : '';
  for (const prompt of PROMPTS) {
    const tail = `${prompt}${markerCommand}\n`;
    if (s.endsWith(tail)) return s.slice(0, -tail.length);
  }
  // Not the exact echo (should not happen): cut at the last prompt.
  const at = Math.max(...PROMPTS.map((p) => s.lastIndexOf(p)));
  return at >= 0 ? s.slice(0, at) : s;
}

export function splitErrors(out: string): { text: string; errors: string[]; warnings: string[] } {
  const keep: string[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  for (const line of out.split('\n')) {
    if (line.startsWith('error: ')) {
      const e = line.slice(7).trim();
      if (!BENIGN_ERRORS.some((r) => r.test(e))) errors.push(e);
    } else if (line.startsWith('warning: ')) warnings.push(line.slice(9).trim());
    else keep.push(line);
  }
  return { text: keep.join('\n'), errors, warnings };
}
