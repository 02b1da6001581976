import { cancelled } from './errors';
import { run } from './exec';

export interface ImageInfo {
  format: string | null;
  virtualSize: number;
  actualSize: number;
  backingFile: string | null;
}

/** qemu-img info; -U reads images a running guest holds open. */
export async function imageInfo(path: string, signal?: AbortSignal): Promise<ImageInfo> {
  const { stdout } = await run('qemu-img', ['info', '-U', '--output=json', path], { timeoutMs: 30_000, ...(signal ? { signal } : {}) });
  const j = JSON.parse(stdout) as { format?: string; 'virtual-size'?: number; 'actual-size'?: number; 'backing-filename'?: string; 'full-backing-filename'?: string };
  return { format: j.format ?? null, virtualSize: j['virtual-size'] ?? 0, actualSize: j['actual-size'] ?? 0, backingFile: j['full-backing-filename'] ?? j['backing-filename'] ?? null };
}

export async function createImage(o: { path: string; format: 'qcow2' | 'raw'; sizeBytes: number; backingFile?: string; backingFormat?: string; signal?: AbortSignal }): Promise<void> {
  const args = ['create', '-q', '-f', o.format];
  if (o.backingFile) args.push('-b', o.backingFile, '-F', o.backingFormat ?? 'qcow2');
  args.push(o.path);
  // With a backing file and no size, the overlay takes the backing image's size.
  if (o.sizeBytes > 0) args.push(String(o.sizeBytes));
  await run('qemu-img', args, { timeoutMs: 10 * 60_000, ...(o.signal ? { signal: o.signal } : {}) });
}

/** A full copy (any input format) into a new image, then grown to sizeBytes if that is larger. */
export async function convertImage(o: { from: string; path: string; format: 'qcow2' | 'raw'; sizeBytes: number; signal?: AbortSignal }): Promise<void> {
  if (o.signal?.aborted) throw cancelled();
  await run('qemu-img', ['convert', '-U', '-O', o.format, o.from, o.path], { timeoutMs: 6 * 60 * 60_000, ...(o.signal ? { signal: o.signal } : {}) });
  const info = await imageInfo(o.path, o.signal);
  if (o.sizeBytes > info.virtualSize) await run('qemu-img', ['resize', '-q', '-f', o.format, o.path, String(o.sizeBytes)], { timeoutMs: 10 * 60_000 });
}
