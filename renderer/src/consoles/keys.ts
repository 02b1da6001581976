/**
 * Keys for a VNC guest: X11 keysyms with the physical key (`KeyboardEvent.code`) so that QEMU's extended key events
 * carry the right scancode. Text is typed as a US keyboard would type it (the layout most guest consoles start in):
 * Shift is pressed for capitals and shifted symbols, '\n' is Return. Characters without a key on that layout go as
 * their Unicode keysym alone.
 */

export interface KeyRef {
  keysym: number;
  /** The physical key; null when no key of a US keyboard makes the character. */
  code: string | null;
}

/** One key event as RFB.sendKey(keysym, code, down) takes it. */
export interface KeyEvent extends KeyRef {
  down: boolean;
}

export const KEYSYM = {
  BackSpace: 0xff08,
  Tab: 0xff09,
  Return: 0xff0d,
  Escape: 0xff1b,
  Delete: 0xffff,
  Home: 0xff50,
  Left: 0xff51,
  Up: 0xff52,
  Right: 0xff53,
  Down: 0xff54,
  PageUp: 0xff55,
  PageDown: 0xff56,
  End: 0xff57,
  Print: 0xff61,
  Insert: 0xff63,
  SysReq: 0xff15,
  ShiftL: 0xffe1,
  ControlL: 0xffe3,
  AltL: 0xffe9,
  SuperL: 0xffeb,
  F1: 0xffbe,
} as const;

export const CTRL: KeyRef = { keysym: KEYSYM.ControlL, code: 'ControlLeft' };
export const ALT: KeyRef = { keysym: KEYSYM.AltL, code: 'AltLeft' };
export const SHIFT: KeyRef = { keysym: KEYSYM.ShiftL, code: 'ShiftLeft' };
export const SUPER: KeyRef = { keysym: KEYSYM.SuperL, code: 'MetaLeft' };

/** F1…F12. */
export function fKey(n: number): KeyRef {
  if (!Number.isInteger(n) || n < 1 || n > 12) throw new RangeError(`no F${n} key`);
  return { keysym: KEYSYM.F1 + n - 1, code: `F${n}` };
}

const named = (keysym: number, code: string): KeyRef => ({ keysym, code });
export const KEY = {
  backspace: named(KEYSYM.BackSpace, 'Backspace'),
  tab: named(KEYSYM.Tab, 'Tab'),
  enter: named(KEYSYM.Return, 'Enter'),
  escape: named(KEYSYM.Escape, 'Escape'),
  delete: named(KEYSYM.Delete, 'Delete'),
  print: named(KEYSYM.Print, 'PrintScreen'),
  sysrq: named(KEYSYM.SysReq, 'PrintScreen'),
  home: named(KEYSYM.Home, 'Home'),
  end: named(KEYSYM.End, 'End'),
  pageUp: named(KEYSYM.PageUp, 'PageUp'),
  pageDown: named(KEYSYM.PageDown, 'PageDown'),
  insert: named(KEYSYM.Insert, 'Insert'),
  up: named(KEYSYM.Up, 'ArrowUp'),
  down: named(KEYSYM.Down, 'ArrowDown'),
  left: named(KEYSYM.Left, 'ArrowLeft'),
  right: named(KEYSYM.Right, 'ArrowRight'),
} as const;

/**
 * A chord: modifiers pressed in order, the key pressed and released, modifiers released in reverse order (what a
 * person's hands do; guests that watch for Ctrl+Alt before F2 see it so).
 */
export function chord(modifiers: readonly KeyRef[], key: KeyRef): KeyEvent[] {
  return [
    ...modifiers.map((m) => ({ ...m, down: true })),
    { ...key, down: true },
    { ...key, down: false },
    ...[...modifiers].reverse().map((m) => ({ ...m, down: false })),
  ];
}

/** The key-combination menu of the VNC toolbar; `label` is shown as is (key names are not translated). */
export interface KeyCombo {
  id: string;
  label: string;
  events: KeyEvent[];
}

export const KEY_COMBOS: readonly KeyCombo[] = [
  ...[1, 2, 3, 4, 5, 6, 7].map((n) => ({ id: `ctrl-alt-f${n}`, label: `Ctrl+Alt+F${n}`, events: chord([CTRL, ALT], fKey(n)) })),
  { id: 'ctrl-alt-backspace', label: 'Ctrl+Alt+Backspace', events: chord([CTRL, ALT], KEY.backspace) },
  { id: 'alt-tab', label: 'Alt+Tab', events: chord([ALT], KEY.tab) },
  { id: 'alt-f4', label: 'Alt+F4', events: chord([ALT], fKey(4)) },
  { id: 'ctrl-esc', label: 'Ctrl+Esc', events: chord([CTRL], KEY.escape) },
  { id: 'super', label: 'Super / Win', events: chord([], SUPER) },
  { id: 'print', label: 'PrintScreen', events: chord([], KEY.print) },
  { id: 'alt-sysrq', label: 'Alt+SysRq', events: chord([ALT], KEY.sysrq) },
  { id: 'escape', label: 'Esc', events: chord([], KEY.escape) },
  { id: 'tab', label: 'Tab', events: chord([], KEY.tab) },
  { id: 'ctrl-c', label: 'Ctrl+C', events: chord([CTRL], { keysym: 0x63, code: 'KeyC' }) },
  { id: 'ctrl-d', label: 'Ctrl+D', events: chord([CTRL], { keysym: 0x64, code: 'KeyD' }) },
  { id: 'ctrl-z', label: 'Ctrl+Z', events: chord([CTRL], { keysym: 0x7a, code: 'KeyZ' }) },
  { id: 'ctrl-l', label: 'Ctrl+L', events: chord([CTRL], { keysym: 0x6c, code: 'KeyL' }) },
];

/** US layout: unshifted and shifted character of each non-letter key. */
const US_KEYS: readonly [string, string, string][] = [
  ['Backquote', '`', '~'],
  ['Digit1', '1', '!'],
  ['Digit2', '2', '@'],
  ['Digit3', '3', '#'],
  ['Digit4', '4', '$'],
  ['Digit5', '5', '%'],
  ['Digit6', '6', '^'],
  ['Digit7', '7', '&'],
  ['Digit8', '8', '*'],
  ['Digit9', '9', '('],
  ['Digit0', '0', ')'],
  ['Minus', '-', '_'],
  ['Equal', '=', '+'],
  ['BracketLeft', '[', '{'],
  ['BracketRight', ']', '}'],
  ['Backslash', '\\', '|'],
  ['Semicolon', ';', ':'],
  ['Quote', "'", '"'],
  ['Comma', ',', '<'],
  ['Period', '.', '>'],
  ['Slash', '/', '?'],
  ['Space', ' ', ' '],
];

const CHAR_KEYS = new Map<string, { code: string; shift: boolean }>();
for (const [code, plain, shifted] of US_KEYS) {
  CHAR_KEYS.set(plain, { code, shift: false });
  if (shifted !== plain) CHAR_KEYS.set(shifted, { code, shift: true });
}
for (let c = 0x61; c <= 0x7a; c++) {
  const lower = String.fromCharCode(c);
  const code = `Key${lower.toUpperCase()}`;
  CHAR_KEYS.set(lower, { code, shift: false });
  CHAR_KEYS.set(lower.toUpperCase(), { code, shift: true });
}

/** The keysym of a character: Latin-1 is its code point, the rest of Unicode 0x01000000 + code point (X11's rule). */
export function keysymOf(ch: string): number {
  const cp = ch.codePointAt(0) ?? 0;
  if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff)) return cp;
  return 0x01000000 + cp;
}

/** The key events that type one character; null for what cannot be typed (control characters other than \n, \t). */
export function charEvents(ch: string): KeyEvent[] | null {
  if (ch === '\n') return chord([], KEY.enter);
  if (ch === '\t') return chord([], KEY.tab);
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return null;
  const key = CHAR_KEYS.get(ch);
  const ref: KeyRef = { keysym: keysymOf(ch), code: key?.code ?? null };
  return chord(key?.shift ? [SHIFT] : [], ref);
}

/** The text as the characters that will be typed: \r\n and lone \r become \n; characters that cannot be typed drop. */
export function typeableChars(text: string): string[] {
  return [...text.replace(/\r\n?/g, '\n')].filter((ch) => charEvents(ch) !== null);
}

export interface TypeOptions {
  /** Pause after each character so slow guests keep up (default 12 ms). */
  delayMs?: number;
  /** After each character: how many are typed of how many. */
  onProgress?: (done: number, total: number) => void;
  /** Stops between two characters (no key is left pressed). */
  signal?: AbortSignal;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Types text key by key through `send`; resolves with the number of characters typed. */
export async function typeText(text: string, send: (e: KeyEvent) => void, o: TypeOptions = {}): Promise<number> {
  const chars = typeableChars(text);
  const sleep = o.sleep ?? defaultSleep;
  const delay = o.delayMs ?? 12;
  let done = 0;
  for (const ch of chars) {
    if (o.signal?.aborted) break;
    for (const e of charEvents(ch)!) send(e);
    done++;
    o.onProgress?.(done, chars.length);
    if (delay > 0 && done < chars.length) await sleep(delay);
  }
  return done;
}

/** The file name of a screenshot: the console's title made safe, and the local time (`web-1-20250102-030405.png`). */
export function screenshotName(title: string, at: Date): string {
  const safe = title.replace(/[\\/:*?"<>|\s()]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'console';
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}`;
  return `${safe}-${stamp}.png`;
}
