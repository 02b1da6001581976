export interface QemuVnc {
  host: string;
  /** The VNC server's TCP port on 127.0.0.1. */
  port: number;
  pid: number;
  qmp(execute: string, args?: Record<string, unknown>): Promise<any>;
  /** QMP screendump: the exact framebuffer as a binary PPM. */
  screendump(): Promise<Buffer>;
  stop(): Promise<void>;
}
export function startQemuVnc(o?: { password?: string | null }): Promise<QemuVnc>;
export function parsePpm(ppm: Buffer): { width: number; height: number; rgb: Buffer };
