// The first place two JSON values differ, as a path and both values: how verify names a stored record
// (a day summary, a day report) that is not what the journals rebuild.

/** `null` when equal; otherwise `path: stored X, rebuilt Y` for the first differing leaf (depth first, in key order). */
export function firstJsonDifference(stored: unknown, rebuilt: unknown, path = ''): string | null {
  if (Object.is(stored, rebuilt)) return null;
  const bothObjects = typeof stored === 'object' && stored !== null && typeof rebuilt === 'object' && rebuilt !== null;
  if (bothObjects && Array.isArray(stored) === Array.isArray(rebuilt)) {
    const a = stored as Record<string, unknown>;
    const b = rebuilt as Record<string, unknown>;
    if (Array.isArray(a) && a.length !== (b as unknown as unknown[]).length) {
      return `${path || '(top)'}: ${a.length} items stored, ${(b as unknown as unknown[]).length} rebuilt`;
    }
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      const difference = firstJsonDifference(a[key], b[key], path === '' ? key : `${path}.${key}`);
      if (difference !== null) return difference;
    }
    return null;
  }
  return `${path || '(top)'}: stored ${JSON.stringify(stored) ?? 'nothing'}, rebuilt ${JSON.stringify(rebuilt) ?? 'nothing'}`;
}
