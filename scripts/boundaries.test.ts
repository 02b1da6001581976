import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layering rules in eslint.config.js, proven on sample files: each forbidden import must fail the lint. */
const eslint = new ESLint({ cwd: process.cwd() });

async function errorsFor(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('import boundaries', () => {
  it('fail when main/ imports electron', async () => {
    expect(await errorsFor('main/sample.ts', `import { app } from 'electron';\nexport const a = app;\n`)).toEqual([expect.stringMatching(/plain Node/)]);
  });
  it('fail when main/ imports the renderer', async () => {
    expect(await errorsFor('main/sample.ts', `import x from '../renderer/src/main';\nexport const a = x;\n`)).toHaveLength(1);
  });
  it('fail when the renderer imports main/', async () => {
    expect(await errorsFor('renderer/src/sample.ts', `import { openCore } from '../../main/core';\nexport const a = openCore;\n`)).toEqual([expect.stringMatching(/API client/)]);
  });
  it('fail when shared/ imports Node built-ins', async () => {
    expect(await errorsFor('shared/sample.ts', `import { join } from 'node:path';\nexport const a = join;\n`)).toHaveLength(1);
  });
  it('allow what the layering permits', async () => {
    expect(await errorsFor('main/sample.ts', `import { commands } from '@shared/contract';\nexport const a = commands;\n`)).toEqual([]);
    expect(await errorsFor('renderer/src/sample.ts', `import { createClient } from '@shared/client';\nexport const a = createClient;\n`)).toEqual([]);
    expect(await errorsFor('electron/sample.ts', `import { app } from 'electron';\nimport { openCore } from '../main/core';\nexport const a = [app, openCore];\n`)).toEqual([]);
  });
});
