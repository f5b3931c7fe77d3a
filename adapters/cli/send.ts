#!/usr/bin/env node
/**
 * `stork-send`: sends HL7 v2 files to a Stork hub over MLLP and prints each message's ACK.
 *
 *   npm run send -- [--host 127.0.0.1] [--port 2575] [--timeout 10000] [--now] file.hl7 [more files…]
 *
 * Try it with `--now test/fixtures/sample-newborn-a28.hl7`. That file has fixed dates; `--now` moves every
 * date and time in it (MSH-7, EVN, the birth in PID-7, …) by the same amount so that MSH-7 is the current
 * time, and gives each message a fresh MSH-10, so the sample is a newborn on any date. Without `--now`
 * the bytes are sent as they are, and a birth older than its mapping's window is answered "not relevant".
 */
import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MllpClient, MllpClientError } from '../mllp/mllp-client.js';
import { FS, VT } from '../mllp/mllp-framer.js';

/** Where `main` writes: `process.stdout`/`process.stderr`, or a collector in tests. */
export interface CliOutput {
  write(text: string): unknown;
}

/** One message read from a file, as it will be sent (segments ending in CR). */
export interface FileMessage {
  file: string;
  /** 1-based position in its file. */
  index: number;
  text: string;
}

/** What an ACK says, read by hand. Text fields are unescaped. */
export interface AckSummary {
  /** MSA-1: AA/AE/AR, or CA/CE/CR in enhanced mode; '' if the ACK has no MSA. */
  code: string;
  /** MSA-3, the text message. */
  text: string;
  errors: { severity: string; code: string; location: string; text: string }[];
}

/** Exit codes: every ACK positive; some message refused or in error; usage or connection problem. */
export const EXIT = { ok: 0, rejected: 1, failure: 2 } as const;

const USAGE = 'usage: stork-send [--host 127.0.0.1] [--port 2575] [--timeout 10000] [--now] file.hl7 [more files…]\n';

/** The date/time fields `--now` moves: the message's own time, the event's, the birth's, death's and stay's. */
const TIME_FIELDS: Readonly<Record<string, readonly number[]>> = {
  MSH: [7],
  EVN: [2, 3, 6],
  PID: [7, 29],
  PV1: [44, 45],
  OBX: [14],
};

const DTM = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/;

/** An HL7 DTM read as a wall-clock time (ms, as if UTC), with its precision (digits) and zone suffix kept. */
function readDtm(value: string): { wall: number; digits: number; fraction: string; zone: string } | undefined {
  const m = DTM.exec(value);
  if (m === null) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', sec = '00'] = m;
  const digits = value.replace(/[.+-].*$/, '').length;
  return {
    wall: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)),
    digits,
    fraction: m[7] ?? '',
    zone: m[8] ?? '',
  };
}

function writeDtm(wall: number, digits: number, fraction: string, zone: string): string {
  const iso = new Date(wall).toISOString(); // 2026-11-18T09:35:12.000Z
  const all = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  return all.slice(0, digits) + (digits === 14 ? fraction : '') + zone;
}

/** `now` as a wall clock in the zone a DTM names: its offset, or (none given) Europe/London, as the hub reads it. */
function wallClockOf(now: Date, zone: string): number {
  if (zone !== '') {
    const sign = zone.startsWith('-') ? -1 : 1;
    return now.getTime() + sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5))) * 60_000;
  }
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(now);
  const n = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
}

/**
 * `--now`: moves every date/time of `TIME_FIELDS` by the one amount that makes MSH-7 equal to `now`
 * (to the second, in MSH-7's own zone), so the gaps between them (birth to message) stay as they were,
 * and replaces MSH-10 by a fresh id (at most 20 characters) so the hub sees a new message, not a re-send.
 * A message without a readable MSH-7 is returned unchanged.
 */
export function shiftToNow(message: string, now: Date, index = 1): string {
  const segments = message.split('\r');
  const msh = segments[0] ?? '';
  if (!msh.startsWith('MSH') || msh.length < 8) return message;
  const fs = msh.charAt(3);
  const cs = msh.charAt(4) || '^';
  const rs = msh.charAt(5) || '~';
  const mshFields = msh.split(fs);
  const sent = readDtm((mshFields[6] ?? '').split(cs)[0] ?? '');
  if (sent === undefined) return message;
  const delta = Math.floor(wallClockOf(now, sent.zone) / 1000) * 1000 - sent.wall;
  const shift = (value: string): string =>
    value
      .split(rs)
      .map((rep) => {
        const [first = '', ...rest] = rep.split(cs);
        const t = readDtm(first);
        return t === undefined ? rep : [writeDtm(t.wall + delta, t.digits, t.fraction, t.zone), ...rest].join(cs);
      })
      .join(rs);
  const stamp = `${now.getTime().toString(36).toUpperCase()}${index.toString(36).toUpperCase()}`;
  return segments
    .map((segment) => {
      const type = segment.slice(0, 3);
      const numbers = TIME_FIELDS[type];
      if (numbers === undefined) return segment;
      const fields = segment.split(fs);
      // MSH-1 is the separator itself, so MSH-n is at index n - 1; in other segments field n is at index n.
      const at = (n: number): number => (type === 'MSH' ? n - 1 : n);
      for (const n of numbers) {
        const i = at(n);
        const value = fields[i];
        if (value !== undefined && value !== '') fields[i] = shift(value);
      }
      if (type === 'MSH' && fields[9] !== undefined) fields[9] = `${fields[9].slice(0, 19 - stamp.length)}-${stamp}`;
      return fields.join(fs);
    })
    .join('\r');
}

/**
 * Splits a file into messages: a blank line, or a line starting `MSH`, starts a new one. CRLF, LF and
 * CR segment endings all become CR; MLLP block characters are dropped. The text is handled as latin1,
 * so the bytes sent are the file's bytes whatever its character set.
 */
export function splitMessages(file: string, content: Buffer): FileMessage[] {
  const lines = content
    .toString('latin1')
    .replace(/^\u00ef\u00bb\u00bf/, '')
    .replaceAll(String.fromCharCode(VT), '')
    .replaceAll(String.fromCharCode(FS), '')
    .split(/\r\n|\r|\n/);
  const groups: string[][] = [];
  let current: string[] | undefined;
  for (const line of lines) {
    if (line.trim() === '') {
      current = undefined;
      continue;
    }
    if (current === undefined || line.startsWith('MSH')) {
      current = [];
      groups.push(current);
    }
    current.push(line);
  }
  return groups.map((segments, i) => ({ file, index: i + 1, text: segments.join('\r') + '\r' }));
}

/** MSH-10 of a message; '' if absent. */
export function controlId(message: string): string {
  const msh = message.split('\r', 1)[0] ?? '';
  return msh.startsWith('MSH') ? (msh.split(msh.charAt(3))[9] ?? '') : '';
}

/** Reads MSA-1, MSA-3 and the ERR segments of an ACK (ERR-2..8 for v2.5+, ERR-1 for v2.4 and earlier). */
export function readAck(ack: string): AckSummary {
  const segments = ack.split(/\r\n|\r|\n/).filter((s) => s !== '');
  const fs = ack.startsWith('MSH') ? ack.charAt(3) : '|';
  const enc = (segments[0]?.startsWith('MSH') ? segments[0].split(fs)[1] : undefined) ?? '^~\\&';
  const cs = enc.charAt(0) || '^';
  const text = (s: string | undefined): string => unescape(s ?? '', fs, enc);
  const summary: AckSummary = { code: '', text: '', errors: [] };
  for (const segment of segments) {
    const f = segment.split(fs);
    if (f[0] === 'MSA') {
      summary.code = (f[1] ?? '').trim();
      summary.text = text(f[3]);
    } else if (f[0] === 'ERR') {
      const erl = f[2] ?? '';
      const cwe = (f[3] ?? '').split(cs);
      const eld = (f[1] ?? '').split(cs); // v2.4: segment^sequence^field^code&text&table
      const location = erl !== '' ? formatLocation(erl.split(cs)) : eld[0] ? formatLocation(eld.slice(0, 3)) : '';
      const code = (cwe[0] ?? '') || ((eld[3] ?? '').split(enc.charAt(3) || '&')[0] ?? '');
      const detail = text(f[8]) || text(cwe[1]) || text((eld[3] ?? '').split(enc.charAt(3) || '&')[1]);
      summary.errors.push({ severity: (f[4] ?? '') || 'E', code, location, text: detail });
    }
  }
  return summary;
}

/** `PID^1^7^1^2` → `PID-7.2`. */
function formatLocation(parts: string[]): string {
  const [segment = '', , field = '', , component = ''] = parts;
  return segment + (field ? `-${field}` : '') + (field && component ? `.${component}` : '');
}

/** Undoes the HL7 delimiter escapes (\F\ \S\ \R\ \E\ \T\); other escapes are left as they are. */
function unescape(s: string, fs: string, enc: string): string {
  const [cs, rs, ec, ss] = [enc.charAt(0) || '^', enc.charAt(1) || '~', enc.charAt(2) || '\\', enc.charAt(3) || '&'];
  if (!s.includes(ec)) return s;
  const map: Record<string, string> = { F: fs, S: cs, R: rs, E: ec, T: ss };
  let out = '';
  let i = 0;
  while (i < s.length) {
    const c = s.charAt(i);
    const close = c === ec ? s.indexOf(ec, i + 1) : -1;
    const code = close === i + 2 ? map[s.charAt(i + 1)] : undefined;
    if (code !== undefined) {
      out += code;
      i += 3;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function positiveInt(name: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not "${value}"`);
  return Number(value);
}

class UsageError extends Error {}

/**
 * Runs the sender with `argv` (the arguments after the script) and returns the exit code: 0 if every ACK
 * is AA/CA, 1 if any is AE/AR/CE/CR (or unreadable), 2 on usage or connection errors.
 */
export async function main(
  argv: readonly string[],
  out: CliOutput,
  err: CliOutput = out,
  clock: () => Date = () => new Date(),
): Promise<number> {
  let host: string;
  let now: Date | undefined;
  let port: number;
  let timeoutMs: number;
  let files: string[];
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '2575' },
        timeout: { type: 'string', default: '10000' },
        now: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      out.write(USAGE);
      return EXIT.ok;
    }
    host = values.host;
    port = positiveInt('port', values.port, 65535);
    timeoutMs = positiveInt('timeout', values.timeout, 3_600_000);
    files = positionals;
    if (values.now) now = clock();
    if (files.length === 0) throw new UsageError('no files given');
  } catch (e) {
    err.write(`stork-send: ${(e as Error).message}\n${USAGE}`);
    return EXIT.failure;
  }

  const messages: FileMessage[] = [];
  for (const file of files) {
    let content: Buffer;
    try {
      content = await readFile(file);
    } catch (e) {
      err.write(`stork-send: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
      return EXIT.failure;
    }
    const found = splitMessages(file, content);
    if (found.length === 0) {
      err.write(`stork-send: ${file} holds no message\n`);
      return EXIT.failure;
    }
    messages.push(...(now === undefined ? found : found.map((m) => ({ ...m, text: shiftToNow(m.text, now, messages.length + m.index) }))));
  }

  let client: MllpClient;
  try {
    client = await MllpClient.connect({ host, port, timeoutMs });
  } catch (e) {
    const code = ((e as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (e as Error).message;
    err.write(
      `stork-send: could not reach the Stork MLLP listener at ${host}:${port} (${code}).\n` +
        `Is the hub running? Start it with \`npm start\` (MLLP listens on STORK_MLLP_PORT, default 2575), or pass --host/--port.\n`,
    );
    return EXIT.failure;
  }

  let exit: number = EXIT.ok;
  const acks = messages.map((m) => client.send(Buffer.from(m.text, 'latin1')));
  for (const [i, m] of messages.entries()) {
    const label = `${m.file}${messages.length > files.length ? `#${m.index}` : ''} ${controlId(m.text) || '(no MSH-10)'}`;
    try {
      const pending = acks[i];
      if (pending === undefined) throw new Error(`no send for message ${i}`);
      const ack = readAck(await pending);
      const positive = ack.code === 'AA' || ack.code === 'CA';
      out.write(`${label} ${ack.code || '(no MSA)'}${ack.text ? ` ${ack.text}` : ''}\n`);
      for (const e of ack.errors)
        out.write(`  ERR ${e.severity} ${e.code}${e.location ? ` ${e.location}` : ''}${e.text ? ` ${e.text}` : ''}\n`);
      if (!positive && exit === EXIT.ok) exit = EXIT.rejected;
    } catch (e) {
      const reason = e instanceof MllpClientError ? e.message : String(e);
      out.write(`${label} no ACK: ${reason}\n`);
      exit = EXIT.failure;
    }
  }
  await client.destroy(); // every send has settled: nothing is cut short
  return exit;
}

async function isEntryPoint(): Promise<boolean> {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(await realpath(path.resolve(script))).href;
  } catch {
    return false;
  }
}

if (await isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr);
}
