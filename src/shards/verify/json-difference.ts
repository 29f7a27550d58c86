// The first place two JSON values differ, as a path and both values: how verify names a stored record
// (a day summary, a day report) that is not what the journals rebuild.

/** `null` when equal; otherwise `path: stored X, rebuilt Y` for the first differing leaf (depth first, in key order). */
export function firstJsonDifference(stored: unknown, rebuilt: unknown, path = ''): string | null {
  if (Object.is(stored, rebuilt)) return null;
  const bothObjects = typeof stored === 'object' && stored !== null && typeof rebuilt === 'object' && rebuilt !== null;
  if (bothObjects && Array.isArray(stored) === Array.isArray(rebuilt)) {
    const storedObject = stored as Record<string, unknown>;
    const rebuiltObject = rebuilt as Record<string, unknown>;
    if (Array.isArray(storedObject) && storedObject.length !== (rebuiltObject as unknown as unknown[]).length) {
      return `${path || '(top)'}: ${storedObject.length} items stored, ${(rebuiltObject as unknown as unknown[]).length} rebuilt`;
    }
    for (const key of new Set([...Object.keys(rebuiltObject), ...Object.keys(storedObject)])) {
      const difference = firstJsonDifference(storedObject[key], rebuiltObject[key], path === '' ? key : `${path}.${key}`);
      if (difference !== null) return difference;
    }
    return null;
  }
  return `${path || '(top)'}: stored ${JSON.stringify(stored) ?? 'nothing'}, rebuilt ${JSON.stringify(rebuilt) ?? 'nothing'}`;
}
