import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../log/logger';
import { HeadlessPlatform } from '../platform/headless';
import { openDatabase } from '../db/open';
import { tempDir } from '../test/helpers';
import { Vault } from './vault';

const dirs: { cleanup(): void }[] = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

function setup(passphrase?: string) {
  const d = tempDir();
  dirs.push(d);
  const logger = createLogger({ sink: () => {} });
  const o = openDatabase(d.path, 't');
  const vault = new Vault(o.db, new HeadlessPlatform({ dataDir: d.path, logger, passphrase }));
  return { d, o, vault, logger };
}

describe('vault', () => {
  it('round-trips a secret and stores only ciphertext', async () => {
    const { o, vault } = setup('correct horse');
    await vault.put('host/h1/password', 'ssh', 'hunter2-very-secret');
    expect((await vault.get('host/h1/password'))!.toString()).toBe('hunter2-very-secret');
    const blob = (o.db.prepare('SELECT ciphertext FROM secrets').get() as { ciphertext: Buffer }).ciphertext;
    expect(blob.includes(Buffer.from('hunter2'))).toBe(false);
    const master = (o.db.prepare(`SELECT value FROM meta WHERE key = 'vault.master'`).get() as { value: string }).value;
    expect(master.length).toBeGreaterThan(40);
    o.close();
  });

  it('cannot be opened with the wrong passphrase', async () => {
    const { d, o, vault, logger } = setup('right');
    await vault.put('k', 'test', 'v');
    const other = new Vault(o.db, new HeadlessPlatform({ dataDir: d.path, logger, passphrase: 'wrong' }));
    await expect(other.get('k')).rejects.toMatchObject({ code: 'forbidden', message: /wrong vault passphrase/ });
    o.close();
  });

  it('binds each ciphertext to its id, so rows cannot be swapped', async () => {
    const { o, vault } = setup('p');
    await vault.put('a', 'test', 'secret-a');
    await vault.put('b', 'test', 'secret-b');
    o.db.prepare(`UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE id = 'a') WHERE id = 'b'`).run();
    await expect(vault.get('b')).rejects.toMatchObject({ message: /integrity/ });
    o.close();
  });

  it('uses a 0600 key file when no passphrase is given', async () => {
    const { d, o, vault } = setup(undefined);
    await vault.put('x', 'test', 'y');
    expect((await vault.get('x'))!.toString()).toBe('y');
    const { statSync } = await import('node:fs');
    expect(statSync(`${d.path}/vault.key`).mode & 0o777).toBe(0o600);
    o.close();
    void Database;
  });
});
