// The status line of a bench run: rewritten in place on a terminal, appended line by line otherwise. Its own
// module so that every part of a run may print progress without importing the report that sums the run up.

/** Any status line, rewritten in place on a terminal and appended otherwise; endProgress() ends it. */
export function statusLine(line: string): void {
  if (process.stdout.isTTY) process.stdout.write(`\r${line.padEnd(110)}`);
  else console.log(line);
}

export function endProgress(): void {
  if (process.stdout.isTTY) process.stdout.write('\n');
}
