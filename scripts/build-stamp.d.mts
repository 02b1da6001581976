export function isBuildStale(root: string): boolean;
