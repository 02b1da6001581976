import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger';
import { EventBus } from '../events/bus';
import type { SkydeckEvent } from '@shared/events';
import { tempDir } from '../test/helpers';
import { HeadlessPlatform } from './headless';

const logger = createLogger({ sink: () => {} });

describe('headless platform', () => {
  it('prints HTML to a real PDF with Chromium', async () => {
    expect(existsSync('/usr/bin/chromium'), 'Chromium is installed by .ci/run').toBe(true);
    const d = tempDir();
    const p = new HeadlessPlatform({ dataDir: d.path, logger });
    const pdf = await p.printToPdf('<h1>Skydeck report</h1><p>主机清单</p>', { landscape: true });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.length).toBeGreaterThan(1000);
    d.cleanup();
  }, 60_000);

  it('sends notifications to connected UIs as events', () => {
    const bus = new EventBus();
    const seen: SkydeckEvent[] = [];
    bus.on((e) => seen.push(e));
    new HeadlessPlatform({ dataDir: '/tmp', logger, bus }).notify({ level: 'warning', title: 'Host offline', body: 'kvm-3' });
    expect(seen).toEqual([{ type: 'notification', level: 'warning', title: 'Host offline', body: 'kvm-3' }]);
  });

  it('opens only http(s) links', async () => {
    const p = new HeadlessPlatform({ dataDir: '/tmp', logger });
    await expect(p.openExternal('file:///etc/passwd')).rejects.toThrow(/only http/);
    await expect(p.openExternal('https://example.org/')).resolves.toBeUndefined();
  });
});
