import { commands, type CommandName } from '@shared/contract';
import { ApiError } from '@shared/errors';
import type { Handlers } from '../api/handlers';
import type { SnapshotMeta } from './snapshot-meta';

/**
 * An opened snapshot is read-only: every command that changes something is refused, except those that only write
 * the viewer's own things (settings, saved views, favourites), files (reports, exports, a backup) or cancel those.
 */
export const ALLOWED_IN_SNAPSHOT: ReadonlySet<CommandName> = new Set<CommandName>([
  'settings.set',
  'views.save',
  'views.delete',
  'favorites.add',
  'favorites.remove',
  'tasks.cancel',
  'inventory.export',
  'reports.run',
  'reports.exportSnapshot',
  'system.backup',
]);

export function guardReadOnly(handlers: Handlers, snapshot: SnapshotMeta): Handlers {
  const guarded = { ...handlers } as Record<CommandName, unknown>;
  for (const name of Object.keys(commands) as CommandName[]) {
    if (!commands[name].mutating || ALLOWED_IN_SNAPSHOT.has(name)) continue;
    guarded[name] = () => {
      throw new ApiError('forbidden', `This Skydeck is a read-only snapshot of an inventory taken ${snapshot.createdAt} on ${snapshot.source.host}: ${name} is refused`, {
        reason: 'read_only_snapshot',
        snapshotAt: snapshot.createdAt,
      });
    };
  }
  return guarded as Handlers;
}
