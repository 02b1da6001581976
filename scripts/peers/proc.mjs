// Small process helpers shared by the peers (no shell: argument arrays only).
import { execFile } from 'node:child_process';

/**
 * @typedef {{ code: number, stdout: string, stderr: string }} ExecResult
 * @typedef {{ allowFail?: boolean, input?: string, env?: NodeJS.ProcessEnv, timeout?: number, cwd?: string }} ShOptions
 */

/**
 * Runs a program and answers its output; throws with its stderr unless `allowFail`.
 * @param {string} cmd
 * @param {string[]} args
 * @param {ShOptions} [opts]
 * @returns {Promise<ExecResult>}
 */
export function sh(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 << 20, env: opts.env ?? process.env, cwd: opts.cwd ?? '/', timeout: opts.timeout ?? 0 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      if (err && !opts.allowFail) reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || err.message).trim()}`));
      else resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Single-quotes a string for sh.
 * @param {string} s
 */
export const shq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
