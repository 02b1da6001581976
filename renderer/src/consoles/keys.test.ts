import { describe, expect, it } from 'vitest';
import { KEY_COMBOS, KEYSYM, charEvents, chord, CTRL, ALT, fKey, keysymOf, screenshotName, typeText, typeableChars, type KeyEvent } from './keys';

const fmt = (es: KeyEvent[]) => es.map((e) => `${e.down ? '+' : '-'}${e.code ?? e.keysym.toString(16)}`).join(' ');

describe('VNC keys', () => {
  it('presses modifiers in order and releases them in reverse', () => {
    expect(fmt(chord([CTRL, ALT], fKey(2)))).toBe('+ControlLeft +AltLeft +F2 -F2 -AltLeft -ControlLeft');
    expect(chord([CTRL, ALT], fKey(2))[2]).toEqual({ keysym: KEYSYM.F1 + 1, code: 'F2', down: true });
    expect(() => fKey(13)).toThrow();
  });

  it('offers the usual combinations', () => {
    const ids = KEY_COMBOS.map((c) => c.id);
    for (const id of ['ctrl-alt-f1', 'ctrl-alt-f7', 'ctrl-alt-backspace', 'alt-tab', 'alt-f4', 'print', 'escape', 'tab']) expect(ids).toContain(id);
    expect(new Set(ids).size).toBe(ids.length);
    const f7 = KEY_COMBOS.find((c) => c.id === 'ctrl-alt-f7')!;
    expect(fmt(f7.events)).toBe('+ControlLeft +AltLeft +F7 -F7 -AltLeft -ControlLeft');
    for (const c of KEY_COMBOS) {
      // Every key pressed is released, the last release is the first modifier.
      expect(c.events.filter((e) => e.down).length, c.id).toBe(c.events.filter((e) => !e.down).length);
      expect(c.events.at(-1)!.down).toBe(false);
    }
  });

  it('types characters as a US keyboard: shift for capitals and shifted symbols, Return for newlines', () => {
    expect(fmt(charEvents('a')!)).toBe('+KeyA -KeyA');
    expect(charEvents('a')![0]!.keysym).toBe(0x61);
    expect(fmt(charEvents('A')!)).toBe('+ShiftLeft +KeyA -KeyA -ShiftLeft');
    expect(charEvents('A')![1]!.keysym).toBe(0x41);
    expect(fmt(charEvents('!')!)).toBe('+ShiftLeft +Digit1 -Digit1 -ShiftLeft');
    expect(fmt(charEvents('|')!)).toBe('+ShiftLeft +Backslash -Backslash -ShiftLeft');
    expect(fmt(charEvents('/')!)).toBe('+Slash -Slash');
    expect(fmt(charEvents(' ')!)).toBe('+Space -Space');
    expect(fmt(charEvents('\n')!)).toBe('+Enter -Enter');
    expect(charEvents('\n')![0]!.keysym).toBe(KEYSYM.Return);
    expect(fmt(charEvents('\t')!)).toBe('+Tab -Tab');
    expect(charEvents('\x07')).toBeNull();
  });

  it('sends characters off the US layout by their keysym alone', () => {
    expect(keysymOf('é')).toBe(0xe9);
    expect(keysymOf('€')).toBe(0x010020ac);
    expect(charEvents('é')).toEqual([
      { keysym: 0xe9, code: null, down: true },
      { keysym: 0xe9, code: null, down: false },
    ]);
    expect(keysymOf('😀')).toBe(0x0100_0000 + 0x1f600);
  });

  it('normalizes line ends and drops what cannot be typed', () => {
    expect(typeableChars('a\r\nb\rc\x00')).toEqual(['a', '\n', 'b', '\n', 'c']);
  });

  it('types text with a pause between keys, reports progress and stops when aborted', async () => {
    const sent: KeyEvent[] = [];
    const progress: number[] = [];
    const sleeps: number[] = [];
    const n = await typeText('Hi!\n', (e) => sent.push(e), { delayMs: 7, onProgress: (d) => progress.push(d), sleep: async (ms) => void sleeps.push(ms) });
    expect(n).toBe(4);
    expect(fmt(sent)).toBe('+ShiftLeft +KeyH -KeyH -ShiftLeft +KeyI -KeyI +ShiftLeft +Digit1 -Digit1 -ShiftLeft +Enter -Enter');
    expect(progress).toEqual([1, 2, 3, 4]);
    expect(sleeps).toEqual([7, 7, 7]);

    const ctrl = new AbortController();
    const got: KeyEvent[] = [];
    const typed = await typeText('abcdef', (e) => got.push(e), {
      sleep: async () => undefined,
      onProgress: (d) => {
        if (d === 2) ctrl.abort();
      },
      signal: ctrl.signal,
    });
    expect(typed).toBe(2);
    expect(fmt(got)).toBe('+KeyA -KeyA +KeyB -KeyB');
  });

  it('names screenshots after the console and the time', () => {
    expect(screenshotName('web-1 (host kvm-2)', new Date(2025, 0, 2, 3, 4, 5))).toBe('web-1-host-kvm-2-20250102-030405.png');
    expect(screenshotName('a/b:c', new Date(2025, 11, 31, 23, 59, 59))).toBe('a-b-c-20251231-235959.png');
    expect(screenshotName('  ', new Date(2025, 0, 1))).toBe('console-20250101-000000.png');
  });
});
