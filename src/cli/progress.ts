// A progress line on stderr for long commands (snapshot, restore, backup): redrawn in place on a terminal
// at most ~5 times a second, or a plain line every few seconds when stderr is a file or a pipe (cron, CI).

const redrawMsTty = 200;
const redrawMsPlain = 5_000;
const barWidth = 30;

export class ProgressLine {
  readonly #label: string;
  readonly #tty: boolean;
  readonly #startedMs = Date.now();
  #drawnMs = 0;
  #drawn = false;

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#tty = stream.isTTY === true;
  }

  /** Shows `done` of `total` (bytes) and what is happening now; cheap to call often. */
  update(done: number, total: number, what: string): void {
    const now = Date.now();
    if (now - this.#drawnMs < (this.#tty ? redrawMsTty : redrawMsPlain)) return;
    this.#drawnMs = now;
    this.#write(done, total, what);
  }

  /** The final state, and a newline on a terminal. */
  finish(done: number, total: number, what: string): void {
    this.#write(done, total, what);
    if (this.#tty && this.#drawn) process.stderr.write('\n');
  }

  #write(done: number, total: number, what: string): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 0;
    const filled = Math.round(fraction * barWidth);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
    const seconds = ((Date.now() - this.#startedMs) / 1000).toFixed(1);
    const line = `${this.#label} ${bar} ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(done)}/${formatBytes(total)} ${what} (${seconds} s)`;
    if (this.#tty) process.stderr.write(`\r\x1b[K${line}`);
    else process.stderr.write(`${line}\n`);
    this.#drawn = true;
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
