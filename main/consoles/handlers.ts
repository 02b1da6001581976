import type { consoles as consolesContract } from '@shared/contract/consoles';
import type { DomainHandlers } from '../api/handlers';
import type { ConsoleService } from './service';

export function consoleHandlers(consoles: ConsoleService): DomainHandlers<typeof consolesContract> {
  return {
    'consoles.open': (input, ctx) => consoles.open(input, ctx.actor),
    'consoles.list': () => consoles.list(),
    'consoles.close': ({ sessionId }) => {
      consoles.close(sessionId);
      return { ok: true as const };
    },
    'consoles.setVncPassword': async ({ guestId, password }) => {
      await consoles.setVncPassword(guestId, password);
      return { ok: true as const };
    },
  };
}
