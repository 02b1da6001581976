export function isBuildStale(root: string): boolean;
export function buildIfStale(root: string): boolean;
export function buildHostAssets(root: string): boolean;
