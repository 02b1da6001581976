import { describe, expect, it } from 'vitest';
import { commands, type CommandName } from '@shared/contract';
import type { Handlers } from './handlers';

describe('handlers', () => {
  it('makes a missing handler a compile error', () => {
    // Type-level proof, checked by `npm run typecheck`: leaving a command out of Handlers does not compile, and
    // if it ever did, this @ts-expect-error would itself fail the typecheck.
    const partial: Omit<Handlers, 'system.info'> = {} as never;
    // @ts-expect-error 'system.info' is missing
    const incomplete: Handlers = partial;
    expect(incomplete).toBeDefined();
    expect(Object.keys(commands) as CommandName[]).toContain('system.info');
  });
});
