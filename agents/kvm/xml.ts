import { XMLParser } from 'fast-xml-parser';

/**
 * libvirt XML as plain objects: attributes under `@_name`, element text under `#text`, every value a string (no number
 * guessing: a domain named "007" stays "007").
 */
export type XmlNode = { [key: string]: XmlValue };
export type XmlValue = string | XmlNode | XmlValue[] | undefined;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
});

export function parseXml(text: string): XmlNode {
  return parser.parse(text) as XmlNode;
}

/** The child (or children) named key as a list, whichever shape the parser gave it. */
export function list(node: XmlValue, key: string): XmlNode[] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  const v = node[key];
  const items = v === undefined ? [] : Array.isArray(v) ? v : [v];
  // An empty element (<readonly/>) parses as '', an element with only text as a string: both become nodes.
  return items.map((x) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? x : { '#text': typeof x === 'string' ? x : '' }));
}

export function child(node: XmlValue, key: string): XmlNode | undefined {
  return list(node, key)[0];
}

export function has(node: XmlValue, key: string): boolean {
  return !!node && typeof node === 'object' && !Array.isArray(node) && node[key] !== undefined;
}

export function attr(node: XmlValue, name: string): string | null {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return null;
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : null;
}

/** Element text: a string child, or the #text of a child with attributes. */
export function text(node: XmlValue, key?: string): string | null {
  const v = key === undefined ? node : node && typeof node === 'object' && !Array.isArray(node) ? node[key] : undefined;
  const first = Array.isArray(v) ? v[0] : v;
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const t = first['#text'];
    return typeof t === 'string' ? t : null;
  }
  return null;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}
