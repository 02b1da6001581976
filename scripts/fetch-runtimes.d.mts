export const RUNTIME_ARCHES: readonly ['x64', 'arm64'];
export function runtimeVersion(root: string): string;
export function ensureRuntimes(root: string): { x64: string; arm64: string };
