/**
 * A minimal ISO 9660 writer for cloud-init NoCloud seeds: one root directory with a few small files, a primary volume
 * descriptor (level-2 names such as USER-DATA.;1, which Linux shows as "user-data") and a Joliet supplementary
 * descriptor carrying the exact names in UCS-2. That is what `genisoimage -V cidata -J` makes, without the tool.
 *
 * Layout, in 2048-byte sectors:
 *   0–15 system area (zero) · 16 primary descriptor · 17 Joliet descriptor · 18 terminator
 *   19/20 primary path tables (L/M) · 21/22 Joliet path tables · 23 primary root · 24 Joliet root · 25… file data
 */
export interface IsoFile {
  name: string;
  data: Buffer;
}

const SECTOR = 2048;
const PVD = 16;
const SVD = 17;
const TERMINATOR = 18;
const PATH_L = 19;
const PATH_M = 20;
const JPATH_L = 21;
const JPATH_M = 22;
const ROOT = 23;
const JROOT = 24;
const DATA = 25;

function both32(b: Buffer, off: number, v: number): void {
  b.writeUInt32LE(v, off);
  b.writeUInt32BE(v, off + 4);
}
function both16(b: Buffer, off: number, v: number): void {
  b.writeUInt16LE(v, off);
  b.writeUInt16BE(v, off + 2);
}

/** Directory-record date: years since 1900, month, day, hour, minute, second, GMT offset (UTC here). */
function recordDate(b: Buffer, off: number, d: Date): void {
  b.set([d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0], off);
}

/** Descriptor date: "YYYYMMDDHHMMSScc" in ASCII, then the GMT offset byte. */
function descriptorDate(b: Buffer, off: number, d: Date | null): void {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const s = d ? `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00` : '0000000000000000';
  b.write(s, off, 'ascii');
  b[off + 16] = 0;
}

const ucs2be = (s: string): Buffer => Buffer.from(s, 'utf16le').swap16();

/** A text field: ASCII padded with spaces, or (Joliet) UCS-2BE padded with UCS-2 spaces. */
function field(b: Buffer, off: number, len: number, s: string, joliet: boolean): void {
  if (!joliet) {
    b.fill(0x20, off, off + len);
    b.write(s.slice(0, len), off, 'ascii');
    return;
  }
  for (let i = off; i + 1 < off + len; i += 2) b.writeUInt16BE(0x20, i);
  if (len % 2) b[off + len - 1] = 0x20;
  ucs2be(s.slice(0, Math.floor(len / 2))).copy(b, off);
}

function dirRecord(o: { extent: number; size: number; dir: boolean; id: Buffer; date: Date }): Buffer {
  const len = 33 + o.id.length + (o.id.length % 2 === 0 ? 1 : 0);
  const b = Buffer.alloc(len);
  b[0] = len;
  both32(b, 2, o.extent);
  both32(b, 10, o.size);
  recordDate(b, 18, o.date);
  b[25] = o.dir ? 2 : 0;
  both16(b, 28, 1);
  b[32] = o.id.length;
  o.id.copy(b, 33);
  return b;
}

/** The primary descriptor's name: upper-case d-characters (plus '-', which every reader accepts), NAME.EXT;1. */
export function isoName(name: string): string {
  let n = name.toUpperCase().replace(/[^A-Z0-9_.-]/g, '_');
  const dot = n.lastIndexOf('.');
  n = dot < 0 ? `${n}.` : `${n.slice(0, dot).replace(/\./g, '_')}${n.slice(dot)}`;
  return `${n.slice(0, 28)};1`;
}

function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 1; // identifier length: the root's is one byte, 0x00
  if (bigEndian) {
    b.writeUInt32BE(rootExtent, 2);
    b.writeUInt16BE(1, 6);
  } else {
    b.writeUInt32LE(rootExtent, 2);
    b.writeUInt16LE(1, 6);
  }
  return b;
}

function volumeDescriptor(o: { type: 1 | 2; volumeId: string; totalSectors: number; pathL: number; pathM: number; root: number; date: Date }): Buffer {
  const joliet = o.type === 2;
  const b = Buffer.alloc(SECTOR);
  b[0] = o.type;
  b.write('CD001', 1, 'ascii');
  b[6] = 1;
  field(b, 8, 32, 'LINUX', joliet);
  field(b, 40, 32, o.volumeId, joliet);
  both32(b, 80, o.totalSectors);
  if (joliet) b.write('%/E', 88, 'ascii'); // UCS-2 level 3
  both16(b, 120, 1);
  both16(b, 124, 1);
  both16(b, 128, SECTOR);
  both32(b, 132, 10);
  b.writeUInt32LE(o.pathL, 140);
  b.writeUInt32BE(o.pathM, 148);
  dirRecord({ extent: o.root, size: SECTOR, dir: true, id: Buffer.from([0]), date: o.date }).copy(b, 156);
  field(b, 190, 128, '', joliet);
  field(b, 318, 128, '', joliet);
  field(b, 446, 128, '', joliet);
  field(b, 574, 128, 'SKYDECK AGENT', joliet);
  field(b, 702, 37, '', joliet);
  field(b, 739, 37, '', joliet);
  field(b, 776, 37, '', joliet);
  descriptorDate(b, 813, o.date);
  descriptorDate(b, 830, o.date);
  descriptorDate(b, 847, null);
  descriptorDate(b, 864, null);
  b[881] = 1;
  return b;
}

function rootDirectory(self: number, entries: { id: Buffer; extent: number; size: number }[], date: Date): Buffer {
  const b = Buffer.alloc(SECTOR);
  let off = 0;
  const put = (r: Buffer): void => {
    if (off + r.length > SECTOR) throw new Error('too many files for a one-sector ISO directory');
    r.copy(b, off);
    off += r.length;
  };
  put(dirRecord({ extent: self, size: SECTOR, dir: true, id: Buffer.from([0]), date }));
  put(dirRecord({ extent: self, size: SECTOR, dir: true, id: Buffer.from([1]), date }));
  for (const e of [...entries].sort((x, y) => Buffer.compare(x.id, y.id))) put(dirRecord({ extent: e.extent, size: e.size, dir: false, id: e.id, date }));
  return b;
}

export function writeIso9660(o: { volumeId: string; files: IsoFile[]; date?: Date }): Buffer {
  const date = o.date ?? new Date();
  const names = new Set<string>();
  let next = DATA;
  const placed = o.files.map((f) => {
    if (!f.name || f.name.includes('/') || f.name.length > 64) throw new Error(`bad ISO file name ${JSON.stringify(f.name)}`);
    const iso = isoName(f.name);
    if (names.has(iso)) throw new Error(`two files map to ${iso}`);
    names.add(iso);
    // An empty file takes no sector; like genisoimage, it points at extent 0.
    const extent = f.data.length ? next : 0;
    next += Math.ceil(f.data.length / SECTOR);
    return { ...f, extent, iso };
  });
  const total = next;
  const image = Buffer.alloc(total * SECTOR);
  const at = (sector: number): number => sector * SECTOR;

  volumeDescriptor({ type: 1, volumeId: o.volumeId, totalSectors: total, pathL: PATH_L, pathM: PATH_M, root: ROOT, date }).copy(image, at(PVD));
  volumeDescriptor({ type: 2, volumeId: o.volumeId, totalSectors: total, pathL: JPATH_L, pathM: JPATH_M, root: JROOT, date }).copy(image, at(SVD));
  image[at(TERMINATOR)] = 255;
  image.write('CD001', at(TERMINATOR) + 1, 'ascii');
  image[at(TERMINATOR) + 6] = 1;
  pathTable(ROOT, false).copy(image, at(PATH_L));
  pathTable(ROOT, true).copy(image, at(PATH_M));
  pathTable(JROOT, false).copy(image, at(JPATH_L));
  pathTable(JROOT, true).copy(image, at(JPATH_M));
  rootDirectory(ROOT, placed.map((f) => ({ id: Buffer.from(f.iso, 'ascii'), extent: f.extent, size: f.data.length })), date).copy(image, at(ROOT));
  rootDirectory(JROOT, placed.map((f) => ({ id: ucs2be(f.name), extent: f.extent, size: f.data.length })), date).copy(image, at(JROOT));
  for (const f of placed) f.data.copy(image, at(f.extent));
  return image;
}
