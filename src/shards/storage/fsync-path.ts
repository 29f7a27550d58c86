// fsync of a file or a directory by path: what makes a written snapshot, manifest or restored file (and
// the directory entry naming it) survive a power loss before anyone is told it is complete.

import { closeSync, fsyncSync, openSync } from 'node:fs';

export function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
