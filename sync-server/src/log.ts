/** The server's logger: pino, JSON lines on stdout. */
import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type Log = Logger;

export function createLog(level: LogLevel): Log {
  return pino({ level, base: undefined });
}
