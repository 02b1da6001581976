import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import en from './en';
import zhCN from './zh-CN';
import { flattenKeys, flattenMessages, placeholders } from './keys';

const locales = { en, 'zh-CN': zhCN };

describe('message files', () => {
  it('en and zh-CN have exactly the same keys', () => {
    const a = flattenKeys(en).sort();
    const b = flattenKeys(zhCN).sort();
    expect(b.filter((k) => !a.includes(k)), 'in zh-CN only').toEqual([]);
    expect(a.filter((k) => !b.includes(k)), 'in en only').toEqual([]);
  });

  it('every message is a non-empty string with the same placeholders in both languages', () => {
    const fa = flattenMessages(en);
    const fb = flattenMessages(zhCN);
    for (const [key, value] of Object.entries(fa)) {
      expect(typeof value, key).toBe('string');
      expect((value as string).trim(), key).not.toBe('');
      expect(typeof fb[key], key).toBe('string');
      expect(placeholders(fb[key] as string), key).toEqual(placeholders(value as string));
    }
  });

  it('no message uses vue-i18n syntax by accident (a bare @ or | )', () => {
    for (const [name, tree] of Object.entries(locales)) {
      for (const [key, value] of Object.entries(flattenMessages(tree))) {
        expect(/[@|]/.test(value as string), `${name} ${key}`).toBe(false);
      }
    }
  });

  it('every key the components use literally exists', () => {
    const keys = new Set(flattenKeys(en));
    // Prefixes of keys built at run time (t(`nav.${area.key}`), …) exist as subtrees.
    const subtrees = new Set(flattenKeys(en).flatMap((k) => k.split('.').map((_, i, parts) => parts.slice(0, i + 1).join('.'))));
    const root = join(import.meta.dirname, '..');
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const f of readdirSync(dir)) {
        const p = join(dir, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(vue|ts)$/.test(f) && !f.endsWith('.test.ts') && !p.includes(`${join('src', 'i18n')}`)) files.push(p);
      }
    };
    walk(root);
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z][\w.]*)'/g)) {
        if (!keys.has(m[1]!)) missing.push(`${file}: ${m[1]}`);
      }
      for (const m of text.matchAll(/\bt\(\s*`([a-zA-Z][\w.]*)\.\$\{/g)) {
        if (!subtrees.has(m[1]!)) missing.push(`${file}: ${m[1]}.*`);
      }
      for (const m of text.matchAll(/label: '([a-z][\w]*\.[\w.]+)'/g)) {
        if (!keys.has(m[1]!)) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
