import { z } from 'zod';
import { command } from './define';
import { idSchema, isoTime, ok } from './common';
import { filterSchema } from '../list';
import { RESOURCE_KINDS, type ResourceKind } from './inventory/kinds';
import { GUEST_ACTIONS } from './inventory/commands';

/** Saved list views (query + columns), favourites with folders, and what each provider's driver can do. */
const kindEnum = z.enum(Object.keys(RESOURCE_KINDS) as [ResourceKind, ...ResourceKind[]]);

export const savedQuerySchema = z
  .object({
    sort: z.string().regex(/^-?[a-z_][a-z0-9_]*$/i).optional(),
    q: z.string().max(256).optional(),
    filter: z.array(filterSchema).max(32).default([]),
  })
  .strict();

export const savedViewSchema = z.object({
  id: z.string(),
  kind: kindEnum,
  name: z.string(),
  query: savedQuerySchema,
  columns: z.array(z.string()),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type SavedView = z.infer<typeof savedViewSchema>;

export const favoriteSchema = z.object({ kind: kindEnum, id: z.string(), folder: z.string(), createdAt: isoTime });
export type Favorite = z.infer<typeof favoriteSchema>;

const folderName = z.string().trim().max(128).regex(/^[^/\\]*(\/[^/\\]+)*$/, 'folders are names separated by /').default('');

export const views = {
  'views.list': command({ summary: 'Saved views of a kind', input: z.object({ kind: kindEnum }).strict(), output: z.object({ items: z.array(savedViewSchema) }), mutating: false }),
  'views.save': command({
    summary: 'Create or replace a saved view (name unique per kind)',
    input: z.object({ id: idSchema.optional(), kind: kindEnum, name: z.string().trim().min(1).max(64), query: savedQuerySchema, columns: z.array(z.string().max(64)).max(64).default([]) }).strict(),
    output: savedViewSchema,
    mutating: true,
  }),
  'views.delete': command({ summary: 'Delete a saved view', input: z.object({ id: idSchema }).strict(), output: ok, mutating: true }),
  'favorites.list': command({ summary: 'Favourites (optionally of one kind), with their folders', input: z.object({ kind: kindEnum.optional() }).strict(), output: z.object({ items: z.array(favoriteSchema), folders: z.array(z.object({ folder: z.string(), count: z.number() })) }), mutating: false }),
  'favorites.add': command({ summary: 'Star resources, optionally into a folder ("" = no folder)', input: z.object({ kind: kindEnum, ids: z.array(idSchema).min(1).max(10_000), folder: folderName }).strict(), output: z.object({ added: z.number() }), mutating: true }),
  'favorites.remove': command({ summary: 'Unstar resources', input: z.object({ kind: kindEnum, ids: z.array(idSchema).min(1).max(10_000) }).strict(), output: z.object({ removed: z.number() }), mutating: true }),
  'system.capabilities': command({
    summary: 'What each provider can do here (the UI asks instead of branching on the provider)',
    input: z.object({}).strict(),
    output: z.object({ providers: z.record(z.string(), z.object({ guestActions: z.array(z.enum(GUEST_ACTIONS)) })), inventoryOrigin: z.object({ kind: z.string(), at: z.string() }).passthrough().nullable() }),
    mutating: false,
  }),
};
