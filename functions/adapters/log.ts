// The one logger. Composition roots make it and pass it to what they build (as a `Log`, functions/domain/ports.ts).
// In the cloud every line is one JSON object (CloudWatch Logs Insights reads its fields), carrying the request id
// of the invocation or HTTP request it belongs to; locally a readable line: the message, then the fields as
// key=value (an error as its stack).

import type { Log, LogFields } from '../domain/ports.js';

export type LogFormat = 'json' | 'text';
export type LogLevel = 'info' | 'warn' | 'error';

/** A `Log` (calling it logs at info level) with the other levels and fixed fields. */
export interface Logger extends Log {
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** The same logger with these fields on every line, e.g. `{ requestId }`. */
  with(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** 'json' in the cloud, 'text' on a terminal. */
  format: LogFormat;
  /** Fields on every line. */
  fields?: LogFields;
  /** Where a finished line goes; default console.log for info, console.warn and console.error for the others. */
  write?: (level: LogLevel, line: string) => void;
}

const CONSOLE: Record<LogLevel, (line: string) => void> = {
  info: (line) => console.log(line),
  warn: (line) => console.warn(line),
  error: (line) => console.error(line),
};

export function createLogger(opts: LoggerOptions): Logger {
  const write = opts.write ?? ((level: LogLevel, line: string) => CONSOLE[level](line));
  const base = opts.fields ?? {};
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    const all = fields ? { ...base, ...fields } : base;
    write(level, opts.format === 'json' ? jsonLine(level, message, all) : textLine(message, all));
  };
  const logger = ((message: string, fields?: LogFields) => emit('info', message, fields)) as Logger;
  logger.warn = (message, fields) => emit('warn', message, fields);
  logger.error = (message, fields) => emit('error', message, fields);
  logger.with = (fields) => createLogger({ ...opts, write, fields: { ...base, ...fields } });
  return logger;
}

function jsonLine(level: LogLevel, message: string, fields: LogFields): string {
  const out: Record<string, unknown> = { level, msg: message };
  for (const [key, value] of Object.entries(fields)) out[key] = value instanceof Error ? errorFields(value) : value;
  return JSON.stringify(out);
}

function textLine(message: string, fields: LogFields): string {
  const parts = [message];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(value instanceof Error ? `${key}=${value.stack ?? value.message}` : `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  return parts.join(' ');
}

function errorFields(err: Error): { name: string; message: string; stack?: string } {
  return { name: err.name, message: err.message, ...(err.stack ? { stack: err.stack } : {}) };
}
