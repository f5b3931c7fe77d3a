/**
 * HL7 v2 date/time (DT, DTM, and the first component of TS) parsed from the raw field text.
 *
 * Why our own parser: the `hl7v2` package drops the sign of negative offsets (`-0500` → `0500`),
 * shortens seconds, accepts impossible dates such as `20261323`, and silently returns nothing for text
 * that is not a date. A baby's time of birth is the most important value Stork carries, so it is parsed
 * here, strictly: `YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ]`.
 *
 * A time without an offset is local time in `Europe/London` (ITK senders do not send offsets): the
 * offset (GMT or BST) is computed for that wall-clock time with `Intl`, so a baby born at 00:30 BST on
 * 4 July keeps `date` 2024-07-04 while its instant is 3 July 23:30Z. In the autumn hour that happens
 * twice the earlier (BST) reading is taken; a time in the spring-forward gap is read with the offset
 * in force just before the change (so `01:30` becomes 02:30 BST, 01:30Z).
 */

/** How much of the value was sent; the canonical record needs at least `day` for a birth date. */
export type Hl7DateTimePrecision = 'year' | 'month' | 'day' | 'hour' | 'minute' | 'second';

/** A parsed HL7 date/time. */
export interface Hl7DateTime {
  /** The local calendar date as sent: `YYYY`, `YYYY-MM` or `YYYY-MM-DD` according to precision. */
  date: string;
  /** ISO 8601 date-time with the offset (`2024-07-04T00:30:00+01:00`), present when a time was sent. */
  instant?: string;
  precision: Hl7DateTimePrecision;
  /** True when the sender gave an offset; false when it was computed for `Europe/London`. */
  offsetGiven: boolean;
}

const PATTERN = /^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?)?)?)?([+-]\d{4})?$/;
const PRECISIONS: readonly Hl7DateTimePrecision[] = ['year', 'month', 'day', 'hour', 'minute', 'second'];

const pad = (n: number, w = 2): string => String(Math.abs(n)).padStart(w, '0');

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Offset of `timeZone` from UTC at the given instant, in whole minutes (historic LMT seconds are rounded). */
export function zoneOffsetMinutes(utcMs: number, timeZone = 'Europe/London'): number {
  // Offsets change only on quarter-hour boundaries, so one answer serves a whole UTC quarter hour.
  // Intl's formatToParts costs ~10 µs a call and every timestamp needs several: cache them.
  const key = `${timeZone}|${Math.floor(utcMs / QUARTER_HOUR_MS)}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  if (offsetCache.size >= OFFSET_CACHE_LIMIT) offsetCache.clear();
  const offset = computeZoneOffsetMinutes(utcMs, timeZone);
  offsetCache.set(key, offset);
  return offset;
}

const QUARTER_HOUR_MS = 900_000;
const OFFSET_CACHE_LIMIT = 50_000;
const offsetCache = new Map<string, number>();

function computeZoneOffsetMinutes(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatterFor(timeZone).formatToParts(new Date(utcMs))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(parts.year ?? 1970, (parts.month ?? 1) - 1, parts.day ?? 1, parts.hour ?? 0, parts.minute ?? 0, parts.second ?? 0);
  return Math.round((wall - (utcMs - (((utcMs % 1000) + 1000) % 1000))) / 60000);
}

/** The offset in force for a wall-clock time in `timeZone` (see the module comment for DST edge cases). */
export function localOffsetMinutes(wallAsUtcMs: number, timeZone = 'Europe/London'): number {
  const before = zoneOffsetMinutes(wallAsUtcMs - 86_400_000, timeZone);
  // The offset of the previous day still fits: normal time, or the earlier reading of an ambiguous hour.
  const after = zoneOffsetMinutes(wallAsUtcMs - before * 60000, timeZone);
  if (after === before) return before;
  // The offset changed within the last day and the new offset fits: after the change.
  if (zoneOffsetMinutes(wallAsUtcMs - after * 60000, timeZone) === after) return after;
  // Neither fits: a wall-clock time skipped by the spring change; keep the offset from before it.
  return before;
}

function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  return `${sign}${pad(Math.trunc(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
}

/**
 * Parses HL7 DT/DTM text. Returns undefined for anything malformed or impossible (month 13, 30 February,
 * hour 24, offset beyond ±14:00). Outer spaces are ignored.
 */
export function parseHl7DateTime(text: string, timeZone = 'Europe/London'): Hl7DateTime | undefined {
  const m = PATTERN.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const year = Number(y);
  const given = [y, mo, d, h, mi, s].filter((x) => x !== undefined).length;
  const precision = PRECISIONS[given - 1] ?? 'year';
  const month = mo === undefined ? 1 : Number(mo);
  const day = d === undefined ? 1 : Number(d);
  const hour = h === undefined ? 0 : Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12) return undefined;
  if (day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;

  const date = mo === undefined ? `${y}` : d === undefined ? `${y}-${mo}` : `${y}-${mo}-${d}`;
  if (h === undefined) {
    if (off !== undefined && !validOffset(off)) return undefined;
    return { date, precision, offsetGiven: off !== undefined };
  }
  let offset: number;
  if (off !== undefined) {
    if (!validOffset(off)) return undefined;
    const mins = Number(off.slice(1, 3)) * 60 + Number(off.slice(3, 5));
    offset = off.startsWith('-') ? -mins : mins;
  } else {
    offset = localOffsetMinutes(Date.UTC(year, month - 1, day, hour, minute, second), timeZone);
  }
  const fraction = frac === undefined ? '' : `.${frac.padEnd(3, '0').slice(0, 3)}`;
  const instant = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}${fraction}${formatOffset(offset)}`;
  return { date, instant, precision, offsetGiven: off !== undefined };
}

function validOffset(off: string): boolean {
  const hh = Number(off.slice(1, 3));
  const mm = Number(off.slice(3, 5));
  return mm < 60 && hh * 60 + mm <= 14 * 60;
}

/** Whole days from calendar date `a` to calendar date `b` (both `YYYY-MM-DD`); negative when `b` is earlier. */
export function daysBetweenDates(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** The calendar date in `timeZone` of an instant: the "today" a message received at that instant belongs to. */
export function localDateOf(instant: Date, timeZone = 'Europe/London'): string {
  const ms = instant.getTime() + zoneOffsetMinutes(instant.getTime(), timeZone) * 60000;
  return new Date(ms).toISOString().slice(0, 10);
}
