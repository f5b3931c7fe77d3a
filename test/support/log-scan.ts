import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusDir } from './corpus.js';
import { describeNewborn } from './synthetic/newborn-adt.js';
import { fhirBirthBundle } from './synthetic/fhir-birth.js';
import { nemsBirthBundle } from './synthetic/nems-birth.js';

/**
 * The scan of the whole test run's logs for the personal data the tests used (issue 16 item 5): NHS numbers,
 * names, dates of birth, postcodes and phone numbers, collected from the test fixtures, the shared corpus and the
 * synthetic generators (over the seeds the tests use), never from a hand-written list alone. Run by jest's global
 * teardown over the files every test hub appended to (test/support/log-sink.ts).
 */

export interface PersonalData {
  nhsNumbers: Set<string>;
  /** Family and given names as written in the data (case kept: a demo login `olivia` is not the name `OLIVIA`). */
  names: Set<string>;
  /** Dates of birth, as YYYYMMDD and YYYY-MM-DD; not recent ones (a synthetic baby is born today, as the log's own clock). */
  birthDates: Set<string>;
  /** Postcodes, upper case without spaces. */
  postcodes: Set<string>;
  /** Phone numbers, digits only. */
  phones: Set<string>;
}

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Words that are in the data as names but are not anyone's name, or are words every log line may hold. */
const NOT_NAMES = new Set([
  'BABY',
  'BOY',
  'GIRL',
  'TWIN',
  'MOTHER',
  'PATIENT',
  'TEST',
  'TESTING',
  'UNKNOWN',
  'NHS',
  'MRS',
  'MISS',
  'STORK',
]);
/** How far back a date must be to count as a birth date in the scan (the log's clock and a newborn's birth meet). */
const RECENT_MS = 2 * 365 * 24 * 3600 * 1000;

function empty(): PersonalData {
  return { nhsNumbers: new Set(), names: new Set(), birthDates: new Set(), postcodes: new Set(), phones: new Set() };
}

function addName(pd: PersonalData, value: string | undefined): void {
  for (const word of (value ?? '').split(/[\s^]+/)) {
    const w = word.replace(/^[^A-Za-z]+|[^A-Za-z]+$/g, '');
    // Not a run of one letter (`AAA`: also a fuzzed segment id in an issue's location).
    if (w.length >= 3 && /^[A-Za-z'-]+$/.test(w) && new Set(w.toUpperCase()).size > 1 && !NOT_NAMES.has(w.toUpperCase())) pd.names.add(w);
  }
}

function addBirthDate(pd: PersonalData, value: string | undefined, now: number): void {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})/.exec(value ?? '');
  if (!m) return;
  const [, y, mo, d] = m;
  const at = Date.parse(`${y}-${mo}-${d}T00:00:00Z`);
  if (Number.isNaN(at) || now - at < RECENT_MS) return;
  pd.birthDates.add(`${y}${mo}${d}`);
  pd.birthDates.add(`${y}-${mo}-${d}`);
}

const addPostcode = (pd: PersonalData, value: string | undefined): void => {
  const p = (value ?? '').toUpperCase().replace(/\s+/g, '');
  if (/^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/.test(p)) pd.postcodes.add(p);
};

const addPhone = (pd: PersonalData, value: string | undefined): void => {
  const digits = (value ?? '').replace(/\D/g, '');
  if (digits.length >= 10 && digits.length <= 13) pd.phones.add(digits);
};

/** PID and NK1 segments of HL7 v2 text: identifiers, names, birth date, address, phones. */
function fromHl7(pd: PersonalData, text: string, now: number): void {
  for (const segment of text.split(/[\r\n]+/)) {
    const fields = segment.split('|');
    const [kind] = fields;
    if (kind !== 'PID' && kind !== 'NK1') continue;
    const at = (i: number): string => fields[i] ?? '';
    const components = (i: number): string[] => at(i).split(/[~^&]/);
    if (kind === 'PID') {
      for (const c of [...components(2), ...components(3), ...components(21)]) if (/^\d{10}$/.test(c)) pd.nhsNumbers.add(c);
      for (const rep of at(5).split('~')) for (const c of rep.split('^').slice(0, 2)) addName(pd, c);
      addBirthDate(pd, at(7), now);
      for (const rep of at(11).split('~')) addPostcode(pd, rep.split('^')[4]);
      for (const i of [13, 14]) for (const rep of at(i).split('~')) for (const c of rep.split('^')) addPhone(pd, c);
    } else {
      for (const rep of at(2).split('~')) for (const c of rep.split('^').slice(0, 2)) addName(pd, c);
      for (const rep of at(4).split('~')) addPostcode(pd, rep.split('^')[4]);
      for (const i of [5, 6]) for (const rep of at(i).split('~')) for (const c of rep.split('^')) addPhone(pd, c);
      addBirthDate(pd, at(16), now);
      for (const c of fields.flatMap((f) => f.split(/[~^]/))) if (/^\d{10}$/.test(c)) pd.nhsNumbers.add(c);
    }
  }
}

/** FHIR resources (JSON, any depth): NHS-number identifiers, HumanNames, birth dates, addresses, telecoms. */
function fromFhir(pd: PersonalData, value: unknown, now: number): void {
  if (Array.isArray(value)) {
    for (const v of value) fromFhir(pd, v, now);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const o = value as Record<string, unknown>;
  if (typeof o.system === 'string' && o.system.includes('nhs-number') && typeof o.value === 'string')
    pd.nhsNumbers.add(o.value.replace(/\s/g, ''));
  if (typeof o.family === 'string') addName(pd, o.family);
  if (Array.isArray(o.given)) for (const g of o.given) if (typeof g === 'string') addName(pd, g);
  if (typeof o.birthDate === 'string') addBirthDate(pd, o.birthDate, now);
  if (typeof o.postalCode === 'string') addPostcode(pd, o.postalCode);
  if ((o.system === 'phone' || o.system === 'sms') && typeof o.value === 'string') addPhone(pd, o.value);
  for (const v of Object.values(o)) fromFhir(pd, v, now);
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = path.join(dir, name);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

function fromFile(pd: PersonalData, file: string, now: number): void {
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    try {
      fromFhir(pd, JSON.parse(text), now);
    } catch {
      // not JSON after all: nothing to read from it
    }
  } else if (text.includes('PID|') || text.includes('NK1|')) fromHl7(pd, text, now);
}

/** The personal data the tests use: fixtures, corpus (when present) and the synthetic generators' seeds. */
export function testPersonalData(now = Date.now()): PersonalData {
  const pd = empty();
  for (const f of filesUnder(path.join(REPO, 'test', 'fixtures'))) fromFile(pd, f, now);
  const corpus = corpusDir();
  const existing = (sub: string): string[] => {
    try {
      return filesUnder(path.join(corpus, sub));
    } catch {
      return [];
    }
  };
  for (const f of [...existing('hl7v2'), ...existing('fhir')])
    if (/\.(json|hl7|txt|er7|mllp)$/.test(f) || !path.extname(f)) fromFile(pd, f, now);
  // The corpus's test NHS numbers (valid and invalid vectors alike): every ten-digit string in those files.
  for (const f of existing('nhs-numbers'))
    for (const m of readFileSync(f, 'utf8').matchAll(/(?<!\d)\d{10}(?!\d)/g)) pd.nhsNumbers.add(m[0]);
  // Synthetic people, over the seeds tests use (0 to 2,000): babies, mothers, adults.
  const messageTime = new Date(now);
  for (let seed = 0; seed <= 2000; seed++) {
    for (const adult of [false, true]) {
      const n = describeNewborn({ seed, messageTime, adult, ...(adult ? { event: 'A08' } : {}) });
      pd.nhsNumbers.add(n.baby.nhsNumber);
      addName(pd, n.baby.family);
      addName(pd, n.baby.given);
      addPostcode(pd, n.baby.postcode);
      addBirthDate(pd, n.baby.birthDate, now);
      if (n.mother) {
        pd.nhsNumbers.add(n.mother.nhsNumber);
        addName(pd, n.mother.family);
        addName(pd, n.mother.given);
        addBirthDate(pd, n.mother.birthDate, now);
      }
    }
  }
  const iso = messageTime.toISOString();
  fromFhir(pd, fhirBirthBundle({ bundleId: 'scan', timestamp: iso, birthDate: iso.slice(0, 10) }), now);
  fromFhir(pd, nemsBirthBundle({ bundleId: 'scan', timestamp: iso, birthDate: iso.slice(0, 10) }), now);
  pd.nhsNumbers.delete('0000000000');
  return pd;
}

export interface LogHit {
  file: string;
  line: number;
  kind: keyof PersonalData;
  value: string;
}

/** Scans every file in `dir` line by line; the line's own timestamp (`"time"`) is left out. */
export function scanLogs(dir: string, pd: PersonalData, maxHits = 50): { files: number; lines: number; bytes: number; hits: LogHit[] } {
  const hits: LogHit[] = [];
  let lines = 0;
  let bytes = 0;
  const files = readdirSync(dir).filter((f) => f.endsWith('.log'));
  for (const file of files) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    bytes += text.length;
    const all = text.split('\n');
    for (const [i, raw] of all.entries()) {
      if (raw === '') continue;
      lines++;
      const line = raw.replace(/"time":"[^"]*"/, '');
      const hit = (kind: keyof PersonalData, value: string): void => {
        if (hits.length < maxHits) hits.push({ file, line: i + 1, kind, value });
      };
      for (const m of line.matchAll(/(?<![\d.])(\d{10}|\d{3} \d{3} \d{4})(?![\d.])/g)) {
        const v = m[0].replace(/ /g, '');
        if (pd.nhsNumbers.has(v)) hit('nhsNumbers', v);
      }
      for (const m of line.matchAll(/(?<![\d.:])(\d{8}|\d{4}-\d{2}-\d{2})(?![\d:])/g)) if (pd.birthDates.has(m[0])) hit('birthDates', m[0]);
      for (const m of line.matchAll(/\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b/gi)) {
        const v = m[0].toUpperCase().replace(/\s/g, '');
        if (pd.postcodes.has(v)) hit('postcodes', v);
      }
      for (const m of line.matchAll(/(?<![\d.])\+?\d[\d ]{8,15}\d(?![\d.])/g)) {
        const v = m[0].replace(/\D/g, '');
        if (pd.phones.has(v)) hit('phones', v);
      }
      // Whole words only: not letters inside an id or a hash (`…9e52258aaa83`).
      for (const m of line.matchAll(/(?<![A-Za-z0-9])[A-Za-z][A-Za-z'-]{2,}(?![A-Za-z0-9])/g)) if (pd.names.has(m[0])) hit('names', m[0]);
    }
  }
  return { files: files.length, lines, bytes, hits };
}
