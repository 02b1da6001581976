/** Numbers as the forecast and errors show them. */

export function fmtMb(mb: number): string {
  const v = Math.max(0, mb);
  return v >= 1024 ? `${trim(v / 1024)} GiB` : `${Math.round(v)} MiB`;
}

export function fmtGb(gb: number): string {
  const v = Math.max(0, gb);
  return v >= 1024 ? `${trim(v / 1024)} TiB` : `${trim(v)} GiB`;
}

/** An overcommit ratio with one decimal: 1.0, 4.0, 1.5. */
export function fmtOc(x: number): string {
  return x.toFixed(1);
}

/** One decimal, without a trailing .0 for whole numbers of more than one digit (8 GiB, 3.2 GiB, 0.5 GiB). */
function trim(x: number): string {
  const r = Math.round(x * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;
export const round3 = (x: number) => Math.round(x * 1000) / 1000;
