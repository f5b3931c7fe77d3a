import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths redacted in every log line, as a second line of defence: Stork's code logs ids, sizes, hashes
 * and HL7 locations only, never message bodies or personal data, and a test proves it.
 */
const redactPaths = [
  'raw',
  'body',
  'message.raw',
  'notification',
  'record',
  'name',
  'nhsNumber',
  'birthDate',
  'address',
  'phone',
  'req.headers.authorization',
  'headers.authorization',
];

/** Builds the process logger; tests pass a sink stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'stork' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
