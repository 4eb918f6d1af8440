/** Severity of a log line, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields a log line may carry: identifiers and figures, never event data, shares or keys. */
export interface LogFields {
  ceremonyId?: string;
  eventId?: string;
  eventType?: string;
  durationMs?: number;
  status?: number;
  [field: string]: string | number | boolean | undefined;
}

/** One JSON object a line, through one function so that tests can capture every line. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Builds a logger for one service that writes each line through `write` (stdout by default). */
export function createLogger(
  service: string,
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stdout.write(line + '\n'),
): Logger {
  const emit = (lineLevel: LogLevel, message: string, fields?: LogFields) => {
    if (rank[lineLevel] < rank[level]) return;
    const line = { time: new Date().toISOString(), level: lineLevel, service, message, ...fields };
    write(JSON.stringify(line));
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
  };
}

/** A logger that drops everything, for tests that do not read the lines. */
export const silentLogger: Logger = createLogger('silent', 'error', () => {});
