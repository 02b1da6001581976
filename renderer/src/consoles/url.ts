import type { ConsoleTicket } from '@shared/contract/consoles';

/** Where the page itself is served from (window.location's shape, passed in so tests need no DOM). */
export interface PageLocation {
  protocol: string;
  host: string;
}

/**
 * The WebSocket address of a console ticket: the ticket's absolute `url` (the desktop app's console listener on
 * 127.0.0.1), else its `path` on the page's own origin (the headless server), ws: or wss: as the page is http: or https:.
 */
export function wsUrlOf(ticket: Pick<ConsoleTicket, 'url' | 'path'>, loc: PageLocation = window.location): string {
  if (ticket.url) return ticket.url;
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}${ticket.path}`;
}
