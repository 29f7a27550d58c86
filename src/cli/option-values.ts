// Parsing of option values shared by the CLI and the benchmark: strict, never clamped, and the
// message names the option. `refuse` builds the caller's own usage error.

import { parseArgs, type ParseArgsConfig } from 'node:util';

type FlagsConfig = NonNullable<ParseArgsConfig['options']>;
type StrictConfig<O extends FlagsConfig> = { args: string[]; strict: true; allowPositionals: false; options: O };
/** What parseFlags returns: parseArgs' typed values for exactly these options. */
export type ParsedFlags<O extends FlagsConfig> = ReturnType<typeof parseArgs<StrictConfig<O>>>;

export type Refuse = (message: string) => Error;

/** A decimal integer in min..max, or `refuse` with a message naming the option. */
export function integerOption(name: string, text: string, min: number, max: number, refuse: Refuse): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw refuse(`${name} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * Strict flag parsing (no positionals, unknown flags refused) whose mistakes become the caller's usage
 * error: one place for what every command and benchmark does with node:util parseArgs.
 */
export function parseFlags<const O extends FlagsConfig>(argv: readonly string[], options: O, refuse: Refuse): ParsedFlags<O> {
  try {
    return parseArgs<StrictConfig<O>>({ args: [...argv], strict: true, allowPositionals: false, options });
  } catch (error) {
    throw refuse((error as Error).message);
  }
}
