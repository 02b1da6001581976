import type { Area } from './areas';

export interface AreaMatch {
  area: Area;
  /** Higher is better. */
  score: number;
}

/** Lower-cases and drops accents and punctuation so "Cloud-Accounts" and "cloud accounts" compare equal. */
export function normalize(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[-_/.]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function scoreText(text: string, q: string): number {
  const t = normalize(text);
  if (!t || !q) return 0;
  if (t === q) return 100;
  if (t.startsWith(q)) return 80;
  if (t.split(' ').some((w) => w.startsWith(q))) return 60;
  if (t.includes(q)) return 40;
  return 0;
}

/**
 * Navigation areas whose name (in the user's language and in English), id or keywords match the query, best first.
 * `names` maps an area to the names to match (translated, English).
 */
export function matchAreas(query: string, areas: readonly Area[], names: (area: Area) => string[], limit = 5): AreaMatch[] {
  const q = normalize(query);
  if (!q) return [];
  const out: AreaMatch[] = [];
  areas.forEach((area, index) => {
    const nameScore = Math.max(0, ...names(area).map((n) => scoreText(n, q)), scoreText(area.id, q));
    const keywordScore = Math.max(0, ...area.keywords.map((k) => scoreText(k, q))) * 0.6;
    const score = Math.max(nameScore, keywordScore);
    // Earlier areas win ties, so the order stays the navigation's.
    if (score > 0) out.push({ area, score: score - index / 100 });
  });
  return out.sort((a, b) => b.score - a.score).slice(0, limit);
}
