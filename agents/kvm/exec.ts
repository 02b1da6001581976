import { execFile } from 'node:child_process';
import { cancelled, hostError, timedOut } from './errors';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

/** Runs a program (no shell), C locale, with a timeout and an optional AbortSignal; failures are RPC_HOST errors. */
export function run(file: string, args: string[], opts: { timeoutMs?: number; signal?: AbortSignal; maxBuffer?: number } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        timeout: opts.timeoutMs ?? 60_000,
        maxBuffer: opts.maxBuffer ?? 16 * 1024 * 1024,
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
        ...(opts.signal ? { signal: opts.signal } : {}),
      },
      (err, stdout, stderr) => {
        if (err && opts.signal?.aborted) reject(cancelled());
        else if (err && (err as { killed?: boolean }).killed) reject(timedOut(`${file} did not finish within ${(opts.timeoutMs ?? 60_000) / 1000} s`));
        else if (err) {
          const detail = String(stderr).trim() || err.message;
          reject(hostError(`${file} failed: ${detail}`.slice(0, 2000), { command: file, stderr: String(stderr).slice(0, 4000) }));
        } else resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

/** Like run, but a missing tool or any failure gives null (host-fact probes). */
export async function tryRun(file: string, args: string[], timeoutMs = 5000): Promise<string | null> {
  try {
    return (await run(file, args, { timeoutMs })).stdout;
  } catch {
    return null;
  }
}
