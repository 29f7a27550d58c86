// Parsing of option values shared by the CLI and the benchmark: strict, never clamped, and the
// message names the option. `refuse` builds the caller's own usage error.

export type Refuse = (message: string) => Error;

/** A decimal integer in min..max, or `refuse` with a message naming the option. */
export function integerOption(name: string, text: string, min: number, max: number, refuse: Refuse): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw refuse(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
