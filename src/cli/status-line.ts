// A status line on stderr for a wait with no fraction to show (a server that answers once, a count without a known
// byte size): a spinner, what is happening and the time elapsed, redrawn in place on a terminal, or a plain line every
// few seconds when stderr is a file or a pipe (cron, CI). The sibling of progress.ts's ProgressLine, with its pacing.

const redrawMsTty = 200;
const redrawMsPlain = 5_000;
const spinnerFrames = ['|', '/', '-', '\\'];

export class StatusLine {
  readonly #label: string;
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #startedMs = Date.now();
  #what = '';
  #frame = 0;
  #drawnMs = 0;
  #timer: NodeJS.Timeout | null = null;

  constructor(label: string, stream: NodeJS.WriteStream = process.stderr) {
    this.#label = label;
    this.#stream = stream;
    this.#tty = stream.isTTY === true;
  }

  /**
   * Redraws on its own until finish(): for a wait on one reply, during which nothing calls update. The timer is
   * unref'd, so that it never keeps the process alive on its own.
   */
  tick(what: string): void {
    this.#what = what;
    this.#draw();
    this.#timer ??= setInterval(() => this.#draw(), this.#tty ? redrawMsTty : redrawMsPlain).unref();
  }

  /** Shows what is happening now; cheap to call often (drawn at most every redraw interval). */
  update(what: string): void {
    this.#what = what;
    if (Date.now() - this.#drawnMs >= (this.#tty ? redrawMsTty : redrawMsPlain)) this.#draw();
  }

  /** Stops the spinner and draws the final state (with a newline on a terminal). */
  finish(what: string): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    this.#write(`${this.#label}: ${what} (${this.elapsedSeconds()} s)`);
    if (this.#tty) this.#stream.write('\n');
  }

  /** Seconds since the line was made, to a tenth. */
  elapsedSeconds(): string {
    return ((Date.now() - this.#startedMs) / 1000).toFixed(1);
  }

  #draw(): void {
    this.#drawnMs = Date.now();
    this.#frame = (this.#frame + 1) % spinnerFrames.length;
    // A spinner in a log file is noise: plain lines carry the elapsed time alone.
    const spinner = this.#tty ? `${spinnerFrames[this.#frame]} ` : '';
    this.#write(`${spinner}${this.#label}: ${this.#what} (${this.elapsedSeconds()} s)`);
  }

  #write(line: string): void {
    if (this.#tty) this.#stream.write(`\r\x1b[K${line}`);
    else this.#stream.write(`${line}\n`);
  }
}
