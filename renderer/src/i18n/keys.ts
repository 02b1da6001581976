/** Every leaf key of a message tree, dotted: `nav.groups.overview`. */
export function flattenKeys(tree: unknown, prefix = ''): string[] {
  if (typeof tree !== 'object' || tree === null) return [prefix];
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => flattenKeys(v, prefix ? `${prefix}.${k}` : k));
}

/** Leaf values by dotted key. */
export function flattenMessages(tree: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (typeof tree !== 'object' || tree === null) {
    out[prefix] = tree;
    return out;
  }
  for (const [k, v] of Object.entries(tree as Record<string, unknown>)) flattenMessages(v, prefix ? `${prefix}.${k}` : k, out);
  return out;
}

/** The `{name}` placeholders of a message, sorted. */
export function placeholders(message: string): string[] {
  return [...message.matchAll(/\{\s*([A-Za-z_][\w]*)\s*\}/g)].map((m) => m[1] ?? '').sort();
}
