import type { settings } from '@shared/contract/settings';
import type { DomainHandlers } from '../api/handlers';
import type { EventBus } from '../events/bus';
import type { SettingsRepo } from './settings-repo';

export function settingsHandlers(repo: SettingsRepo, bus: EventBus): DomainHandlers<typeof settings> {
  const changed = <T extends ReturnType<SettingsRepo['get']>>(s: T): T => {
    bus.emit({ type: 'settings.changed', settings: s });
    return s;
  };
  return {
    'settings.get': () => repo.get(),
    'settings.set': ({ patch }) => changed(repo.set(patch)),
    'settings.reset': ({ keys }) => changed(repo.reset(keys)),
  };
}
