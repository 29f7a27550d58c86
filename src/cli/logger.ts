// The server's log: one JSON object per line on stdout ({"time","level","msg",…fields}), quiet by default —
// at `info` only lifecycle events (start, keys, listening, day closes, backups, shutdown); `debug` adds
// more, `warn`/`error` keep only problems. Machine-readable for a collector, still greppable by eye.

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LogFields {
  readonly level: LogLevel;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export type Log = (fields: LogFields) => void;

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

/** A logger writing lines at `minLevel` and above; bigints become decimal strings, errors their message. */
export function jsonLogger(minLevel: LogLevel, write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Log {
  const rank = logLevels.indexOf(minLevel);
  return (fields) => {
    if (logLevels.indexOf(fields.level) > rank) return;
    const { level, msg, ...rest } = fields;
    write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...rest }, (_key, value: unknown) => {
      if (typeof value === 'bigint') return value.toString();
      if (value instanceof Error) return value.message;
      return value;
    }));
  };
}

/** For code that logs ready-made JSON lines (the day scheduler): parsed, then filtered by level like the rest. */
export function jsonLineSink(log: Log): (line: string) => void {
  return (line) => {
    try {
      const fields = JSON.parse(line) as Partial<LogFields>;
      if (typeof fields.msg === 'string' && typeof fields.level === 'string' && isLogLevel(fields.level)) return log(fields as LogFields);
    } catch {
      // not JSON: logged as a warning below
    }
    log({ level: 'warn', msg: line });
  };
}
