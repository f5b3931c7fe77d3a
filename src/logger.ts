import { pino, type Logger, type DestinationStream } from 'pino';
import { errorCode } from './ports/errors.js';

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

/** What a logged error becomes: never its message, which may come from a driver and hold data values. */
export interface LoggedError {
  type: string;
  code?: string;
  /** The stack's frames ("at fn (file:line:col)") without its first line, which repeats the message. */
  stack?: string;
  cause?: LoggedError;
}

const MAX_CAUSES = 3;

/**
 * The one `err` serializer: the error's class name, its code (SQLSTATE, errno code) and its stack frames.
 * The message is left out on purpose, in the stack's first line too: a PostgreSQL or HL7 library message
 * can quote the values it choked on. Log `{ err }` and say what happened in the log line's own message.
 */
export function serializeError(err: unknown, depth = 0): LoggedError {
  if (!(err instanceof Error)) return { type: typeof err };
  const out: LoggedError = { type: err.name };
  const code = errorCode(err);
  if (code !== undefined) out.code = code;
  const frames = (err.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => line.trim());
  if (frames.length > 0) out.stack = frames.join('\n');
  if (err.cause !== undefined && err.cause !== err && depth < MAX_CAUSES) out.cause = serializeError(err.cause, depth + 1);
  return out;
}

/** Builds the process logger; tests pass a sink stream to read what was logged. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'stork' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    serializers: { err: serializeError },
    hooks: {
      // pino uses err.message as the line's message when none is given (`log.error(err)` or `log.error({ err })`):
      // give such lines a fixed one instead, so no error message reaches the log that way either.
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        const hasError = first instanceof Error || (typeof first === 'object' && first !== null && 'err' in first);
        if (hasError && typeof second !== 'string') {
          const fields = first instanceof Error ? { err: first } : (first as object);
          method.apply(this, [fields, 'error'] as unknown as Parameters<typeof method>);
          return;
        }
        method.apply(this, args);
      },
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
