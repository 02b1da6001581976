export const BANNER: string;
export const DEFAULT_CMDLINE: string;
export interface TinyGuest {
  /** Debian's vmlinuz (readable by every test host: the hosts share the root filesystem). */
  kernel: string;
  /** The busybox initramfs (gzip'd newc cpio). */
  initrd: string;
  /** The BIOS-bootable ISO (grub-mkrescue, no menu delay); absent when grub-mkrescue was missing. */
  iso?: string;
  /** Printed on tty1 and ttyS0 when the guest is up: 'SKYDECK TINY GUEST'. */
  banner: string;
  /** The kernel command line for direct boot (add skydeck.ip=A/N skydeck.gw=G for a static eth0). */
  cmdline: string;
  kernelVersion: string;
  dir: string;
  buildMs: number;
  cached: boolean;
}
export function buildTinyGuest(o?: { cacheDir?: string; iso?: boolean; log?: (line: string) => void }): Promise<TinyGuest>;
export function checkTinyGuest(
  guest: TinyGuest,
  o?: { via?: 'kernel' | 'iso'; timeoutMs?: number; powerOffTimeoutMs?: number },
): Promise<{ bootMs: number; powerOffMs: number; serial: string; screen: string }>;
export function tinyGuestXml(
  guest: TinyGuest,
  o: { name: string; via?: 'kernel' | 'iso'; memoryMiB?: number; serialLog?: string; bridge?: string; nicModel?: string; ip?: string; gateway?: string; disk?: string },
): string;
