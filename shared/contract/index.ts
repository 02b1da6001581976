import type { z } from 'zod';
import type { CommandDef } from './define';
import { system } from './system';
import { settings } from './settings';
import { tasks } from './tasks';
import { audit } from './audit';
import { search } from './search';
import { inventory, inventoryExport } from './inventory/commands';
import { views } from './views';
import { kvm } from './kvm';
import { scheduler } from './scheduler';
import { consoles } from './consoles';
import { reports } from './reports';
import { clouds } from './clouds';
import { monitoring } from './monitoring';
import { alerts } from './alerts';

/**
 * The registry of every command, `domain.verb` → definition. Adding a command here without a handler in main/ is a
 * compile error (see main/api/handlers.ts).
 */
export const commands = {
  ...system,
  ...settings,
  ...tasks,
  ...audit,
  ...search,
  ...inventory,
  ...inventoryExport,
  ...views,
  ...kvm,
  ...scheduler,
  ...consoles,
  ...reports,
  ...clouds,
  ...monitoring,
  ...alerts,
} satisfies Record<string, CommandDef>;

export type Commands = typeof commands;
export type CommandName = keyof Commands;
/** What a caller passes (defaults not yet applied). */
export type Input<N extends CommandName> = z.input<Commands[N]['input']>;
/** What a handler receives (parsed, defaults applied). */
export type ParsedInput<N extends CommandName> = z.output<Commands[N]['input']>;
export type Output<N extends CommandName> = z.output<Commands[N]['output']>;

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(commands, name);
}

/** `GET /api/v1/<resource>` → the list command that serves it. */
export const listRoutes: Record<string, CommandName> = Object.fromEntries(
  (Object.entries(commands) as [CommandName, CommandDef][]).flatMap(([name, def]) => (def.list ? [[def.list, name]] : [])),
);

export * from './define';
export * from './common';
export * from './system';
export * from './settings';
export * from './tasks';
export * from './audit';
export * from './search';
export * from './inventory/base';
export * from './inventory/kinds';
export * from './inventory/commands';
export * from './inventory/status';
export * from './views';
export * from './kvm';
export * from './scheduler';
export * from './consoles';
export * from './reports';
export * from './clouds';
export * from './monitoring';
export * from './alerts';
