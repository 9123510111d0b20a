/** The server's logger: pino, JSON lines on stdout (or on `destination`: tests read what was logged). */
import { pino, type DestinationStream, type Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Log = Logger;
export type LogDestination = DestinationStream;

export function createLog(level: LogLevel, destination?: LogDestination): Log {
  return destination === undefined ? pino({ level, base: undefined }) : pino({ level, base: undefined }, destination);
}
