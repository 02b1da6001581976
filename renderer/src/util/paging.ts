/** The page sizes offered by a pager: the usual ones plus the user's setting. */
export function pageSizes(preferred: number): number[] {
  const base = [20, 50, 100, 200, 500];
  return [...new Set([...base, preferred])].sort((a, b) => a - b);
}
