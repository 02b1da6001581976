import { z } from 'zod';
import { isoTime } from '../common';

/**
 * What every inventory row carries, whichever provider it came from: where it lives (`provider`, `externalId`), its
 * status, when it changed and when it was last synced (so that its age is always visible offline), and its tags.
 */
export const PROVIDERS = ['local', 'kvm', 'esxi', 'baremetal', 'aws', 'aliyun', 'tencent', 'azure', 'import'] as const;
export type Provider = (typeof PROVIDERS)[number];

export const tagSchema = z.object({
  key: z.string().min(1).max(128).regex(/^[^=,\s][^=,]*$/, 'a tag key has no "=" or ","'),
  value: z.string().max(256),
  /** `user` tags are Skydeck's own; `provider` tags come from the cloud or host and are replaced by each sync. */
  source: z.enum(['user', 'provider']),
});
export type Tag = z.infer<typeof tagSchema>;

export const resourceBase = {
  id: z.string(),
  name: z.string(),
  provider: z.enum(PROVIDERS),
  externalId: z.string().nullable(),
  status: z.string(),
  createdAt: isoTime,
  updatedAt: isoTime,
  syncedAt: isoTime.nullable(),
  /** Imported snapshots and seeded data are read-only: actions on them are refused. */
  readOnly: z.boolean(),
  /** Its provider or host cannot be reached: what is shown is the last-known state, as of `syncedAt`. */
  stale: z.boolean(),
  tags: z.array(tagSchema),
};

export const nameSchema = z
  .string()
  .trim()
  .min(1, 'a name is required')
  .max(128)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'a name starts with a letter or digit and holds letters, digits, spaces, . _ -');
