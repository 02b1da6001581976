import type { CommandName, Output, ParsedInput } from '@shared/contract';
import type { CallContext } from '../core-types';

/**
 * One handler per command in the contract. The mapped type makes a missing (or misspelt) handler a compile error.
 */
export type Handler<N extends CommandName> = (input: ParsedInput<N>, ctx: CallContext) => Promise<Output<N>> | Output<N>;
export type Handlers = { [N in CommandName]: Handler<N> };
/** A domain contributes the handlers of its own commands. */
export type DomainHandlers<D extends Record<string, unknown>> = { [N in keyof D & CommandName]: Handler<N> };
