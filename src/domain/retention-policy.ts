/**
 * Retention (issue 14 item 6): how long Stork keeps its copies of personal data, as `mappings/retention.json` says,
 * and the cut-off dates a run purges before. Pure: the file is read in src/config/retention.ts, purged in adapters.
 */
import { compile } from './json-schema.js';

/** A period of whole days or whole calendar months (never zero or negative: the schema refuses it). */
export type RetentionPeriod = { readonly days: number } | { readonly months: number };

export interface RetentionPeriods {
  /** The bytes received (and the ACK sent) of messages that were processed, not relevant or duplicates. */
  readonly rawMessages: RetentionPeriod;
  /** The bytes of quarantined (rejected) messages, kept for an operator to fix the feed and replay them. */
  readonly quarantinedMessages: RetentionPeriod;
  /** A notification's identifiable content (record, disclosed record, NHS numbers) after its last change. */
  readonly notificationContent: RetentionPeriod;
  /**
   * An antenatal notification's identifiable content (the booking, what its centre saw, the mother's NHS number)
   * after its last change. Optional: without it `notificationContent` governs antenatal notifications too.
   */
  readonly antenatalContent?: RetentionPeriod;
  /** The bytes and subject of signal events (POST /v1/events) once fetched, failed or refused. */
  readonly signalEvents: RetentionPeriod;
  /** Web app sessions (who signed in) after they ended. */
  readonly webSessions: RetentionPeriod;
  /** A trigger firing's dataset (parent, children, address) and the parent's NHS number, after it fired or was released. */
  readonly triggerFirings: RetentionPeriod;
}

export interface RetentionConfig {
  readonly schedule: {
    /** Local time of the daily run, HH:MM. */
    readonly dailyAt: string;
    /** IANA time zone of `dailyAt`. */
    readonly timeZone: string;
  };
  /** Rows per transaction: a run never holds more row locks than this at once. */
  readonly batchSize: number;
  readonly periods: RetentionPeriods;
}

/** The tables (or table parts) a run purges, in the order it purges them. */
export const RETENTION_TARGETS = [
  'notifications',
  'antenatal-notifications',
  'messages',
  'quarantined-messages',
  'fhir-events',
  'web-sessions',
  'trigger-firings',
] as const;
export type RetentionTarget = (typeof RETENTION_TARGETS)[number];

/** Which period governs each target (see `targetPeriod` for the one that may fall back). */
export const TARGET_PERIOD: Readonly<Record<RetentionTarget, keyof RetentionPeriods>> = {
  notifications: 'notificationContent',
  'antenatal-notifications': 'antenatalContent',
  messages: 'rawMessages',
  'quarantined-messages': 'quarantinedMessages',
  'fhir-events': 'signalEvents',
  'web-sessions': 'webSessions',
  'trigger-firings': 'triggerFirings',
};

/**
 * The longest time Stork may still need a message's bytes after receipt without anyone asking: BullMQ keeps a job
 * that failed for good 14 days in its failed set (adapters/queue JOB_OPTIONS.removeOnFail) for an operator to retry,
 * and an operator replays a quarantined message from its bytes. A message period shorter than this is refused.
 */
export const REPLAY_HORIZON_DAYS = 14;

const period = {
  oneOf: [
    {
      type: 'object',
      additionalProperties: false,
      required: ['days'],
      properties: { days: { type: 'integer', minimum: 1, maximum: 36500 } },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['months'],
      properties: { months: { type: 'integer', minimum: 1, maximum: 1200 } },
    },
  ],
};

export const retentionSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['schedule', 'batchSize', 'periods'],
  properties: {
    $comment: { type: 'string' },
    schedule: {
      type: 'object',
      additionalProperties: false,
      required: ['dailyAt', 'timeZone'],
      properties: {
        dailyAt: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
        timeZone: { type: 'string', minLength: 1 },
      },
    },
    batchSize: { type: 'integer', minimum: 1, maximum: 10000 },
    periods: {
      type: 'object',
      additionalProperties: false,
      required: ['rawMessages', 'quarantinedMessages', 'notificationContent', 'signalEvents', 'webSessions', 'triggerFirings'],
      properties: {
        rawMessages: period,
        quarantinedMessages: period,
        notificationContent: period,
        antenatalContent: period,
        signalEvents: period,
        webSessions: period,
        triggerFirings: period,
      },
    },
  },
};

export const validateRetentionFile = compile<RetentionConfig>(retentionSchema);

/** The shortest length a period can have, in days (a month is at least 28). */
export function minimumDays(p: RetentionPeriod): number {
  return 'days' in p ? p.days : p.months * 28;
}

/**
 * What the schema cannot say: the time zone is one the runtime knows, and neither message period is shorter than
 * the replay horizon. Each problem names the field.
 */
export function retentionProblems(c: RetentionConfig, knownTimeZone: (tz: string) => boolean): string[] {
  const problems: string[] = [];
  if (!knownTimeZone(c.schedule.timeZone)) problems.push(`field /schedule/timeZone: '${c.schedule.timeZone}' is not a known time zone`);
  for (const key of ['rawMessages', 'quarantinedMessages', 'signalEvents'] as const) {
    if (minimumDays(c.periods[key]) < REPLAY_HORIZON_DAYS)
      problems.push(
        `field /periods/${key}: must be at least ${REPLAY_HORIZON_DAYS} days, the longest time a failed job or a quarantined message may still be retried or replayed from its bytes`,
      );
  }
  return problems;
}

/** `at` minus a period: days as 24-hour days, months as calendar months (UTC; the 31st falls back to the month's last day). */
export function cutoff(at: Date, p: RetentionPeriod): Date {
  if ('days' in p) return new Date(at.getTime() - p.days * 86_400_000);
  const d = new Date(at.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - p.months);
  const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, last));
  return d;
}

/** The period that governs a target, and its name: `antenatalContent` when the file sets it, else `notificationContent`. */
export function targetPeriod(
  periods: RetentionPeriods,
  target: RetentionTarget,
): { name: keyof RetentionPeriods; period: RetentionPeriod } {
  const name = TARGET_PERIOD[target];
  const period = periods[name];
  if (period !== undefined) return { name, period };
  return { name: 'notificationContent', period: periods.notificationContent };
}

/** Each target's cut-off at `at`: rows older than it (as each target measures age) are purged. */
export function cutoffs(at: Date, periods: RetentionPeriods): Record<RetentionTarget, Date> {
  const out = {} as Record<RetentionTarget, Date>;
  for (const t of RETENTION_TARGETS) out[t] = cutoff(at, targetPeriod(periods, t).period);
  return out;
}

/** The BullMQ cron pattern (seconds first) of a daily run at HH:MM. */
export function dailyCron(dailyAt: string): string {
  const [h, m] = dailyAt.split(':').map(Number);
  return `0 ${m ?? 0} ${h ?? 0} * * *`;
}
