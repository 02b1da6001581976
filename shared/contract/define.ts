import type { z } from 'zod';

/**
 * One API command: its schemas and how the transports expose it. Both transports (Electron IPC and HTTP) are generated
 * from these definitions and carry no logic of their own.
 */
export interface CommandDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  summary: string;
  input: I;
  output: O;
  /** Changes state: every call is written to the audit log with its (redacted) input and result. */
  mutating: boolean;
  /** When set, the command is also served as `GET /api/v1/<list>` with the query string as its input. */
  list?: string;
  /** Input fields whose values never reach the audit log or any log line. */
  secretFields?: readonly string[];
}

export function command<I extends z.ZodType, O extends z.ZodType>(def: CommandDef<I, O>): CommandDef<I, O> {
  return def;
}
