// Where a snapshot, a backup or a restore may write: checked on real paths (every symlink followed), so
// that no link leads a copy into the directory it is copied from, or that directory into the copy.
// Checks answer a problem as text (null when there is none); each caller raises it as its own error.

import { lstatSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/** A checked target: the real path to write (symlinks of its existing part resolved), or why not. */
export type TargetCheck = { path: string; problem?: undefined } | { problem: string };

/**
 * Where a write to absolute `path` lands: the real path of its deepest existing ancestor, then the rest
 * (which does not exist yet, so holds no link). null when an existing part cannot be resolved (a dangling
 * or looping symlink, no permission): a later mkdir would fail or go somewhere unchecked.
 */
export function realPathOf(path: string): string | null {
  let existing = resolve(path);
  const rest: string[] = [];
  for (;;) {
    const state = lexists(existing);
    if (state === 'unreadable') return null;
    if (state === 'present' || dirname(existing) === existing) break;
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  try {
    return join(realpathSync.native(existing), ...rest);
  } catch {
    return null;
  }
}

/** True when `path` is `dir` or lies under it (both absolute and normalised). */
export function isWithin(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/** Why `path` is no path to write to (or null): not a non-empty string, a NUL byte, not absolute. */
export function pathProblem(path: unknown, what: string): string | null {
  if (typeof path !== 'string' || path === '') return `${what} must be a non-empty path, got ${JSON.stringify(path)}`;
  // The file system APIs refuse a NUL byte only when they are called, long after the request was accepted.
  if (path.includes('\0')) return `${what} must not contain a NUL byte, got ${JSON.stringify(path)}`;
  if (!isAbsolute(path)) return `${what} must be an absolute path, got ${JSON.stringify(path)}`;
  return null;
}

/**
 * A directory to create and fill (a snapshot, a restored data directory) away from `source`: absolute, no
 * NUL byte, not inside `source` nor holding it once symlinks are followed, its parent an existing
 * directory, and itself absent or an empty directory.
 */
export function checkNewDirectory(target: unknown, source: string, what: string, sourceWhat: string): TargetCheck {
  const problem = pathProblem(target, what);
  if (problem !== null) return { problem };
  const real = realPathOf(target as string);
  if (real === null) return { problem: `${what} ${target as string} cannot be resolved (a dangling or looping symlink, or no permission on the way)` };
  const overlap = overlapProblem(real, source, what, sourceWhat);
  if (overlap !== null) return { problem: overlap };
  const parent = dirname(real);
  if (!isDirectory(parent)) return { problem: `${what}'s parent ${parent} is not an existing directory` };
  if (lexists(real) === 'present' && (!isDirectory(real) || readdirSync(real).length > 0)) return { problem: `${what} ${real} exists and is not an empty directory` };
  return { path: real };
}

/** Why `real` (a real path) must not be written beside `source`: one lies within the other. */
export function overlapProblem(real: string, source: string, what: string, sourceWhat: string): string | null {
  const sourceReal = realPathOf(source) ?? resolve(source);
  if (isWithin(real, sourceReal)) return `${what} ${real} is inside the ${sourceWhat} ${sourceReal}`;
  if (isWithin(sourceReal, real)) return `${what} ${real} holds the ${sourceWhat} ${sourceReal}`;
  return null;
}

function lexists(path: string): 'present' | 'absent' | 'unreadable' {
  try {
    lstatSync(path);
    return 'present';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'absent' : 'unreadable';
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
