import type { alerts as alertsContract } from '@shared/contract/alerts';
import type { DomainHandlers } from '../api/handlers';
import type { AlertEngine } from './alerts';

export function alertHandlers(a: AlertEngine): DomainHandlers<typeof alertsContract> {
  return {
    'alerts.listRules': () => ({ items: a.rules() }),
    'alerts.createRule': (input) => a.create(input),
    'alerts.updateRule': ({ id, rule }) => a.update(id, rule),
    'alerts.deleteRule': ({ id }) => {
      a.delete(id);
      return { ok: true as const };
    },
    'alerts.list': ({ state, limit }) => ({ items: a.list(state, limit) }),
    'alerts.listSilences': () => ({ items: a.silences() }),
    'alerts.silence': (input) => ({ id: a.silence(input) }),
    'alerts.unsilence': ({ id }) => {
      a.unsilence(id);
      return { ok: true as const };
    },
    'alerts.getChannels': () => a.channels(),
    'alerts.setChannels': (input) => a.setChannels(input),
    'alerts.testChannel': ({ channel }) => a.send(channel, { subject: '[Skydeck] Test notification', text: 'This is a test notification from Skydeck.', severity: 'info', payload: { event: 'test', at: new Date().toISOString() } }),
    'alerts.evaluate': () => a.evaluate(),
  };
}
