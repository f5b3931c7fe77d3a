import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import express, { type Request, type Response } from 'express';
import { corpusPath } from './corpus.js';

type Json = Record<string, unknown>;

/** A birth as the test server holds it, made from the corpus's PDS "record at birth" example. */
export interface TestBirth {
  babyId: string;
  motherId: string;
  babyNhsNumber: string;
  motherNhsNumber: string;
}

export interface BirthOptions {
  babyNhsNumber: string;
  motherNhsNumber: string;
  birthDate: string;
  postcode?: string;
  /** meta.lastUpdated of the baby's Patient (default: the server's clock, one millisecond later each time). */
  lastUpdated?: string;
}

/** What the server does wrong, for the next requests (each counter counts down). */
export interface Faults {
  /** Answer this many requests with `failStatus` (an OperationOutcome). */
  fail: number;
  failStatus: number;
  /** Never answer this many requests (the connection stays open). */
  hang: number;
  /** Answer this many requests with a body that never ends (JSON, as fast as the socket takes it). */
  endless: number;
  /** Give `next` links on this origin instead of the server's own. */
  foreignNextOrigin?: string;
}

/**
 * A small FHIR R4 server on loopback for the fetch and poll tests (an express app, not a FHIR framework), serving
 * REAL example resources read from the shared corpus at test time: the PDS "create record at birth" transaction
 * bundle (`pds-r4-record-at-birth/create-pds-record-at-birth.json`), its placeholders filled per birth, split into
 * the resources a FHIR server would hold (the baby's and the mother's Patient, RelatedPerson, Observations,
 * Organization…), with ids and meta; plus the PDS example Patient (`pds-r4-patient/Patient.json`, born 2010).
 * Read by id, search (identifier, birthdate=ge, _lastUpdated=gt|ge, patient, subject, _sort=_lastUpdated,
 * _count) with paging by absolute `link[next]`, a bearer token check, and faults on demand.
 */
/**
 * The first minute of a date in London, with London's offset that day: never in the future when the date is today's.
 * (A fixed 08:15 was in the future for every test that ran before 08:15 with a birth dated today.)
 */
function firstMinuteInLondon(date: string): string {
  const midnightUtc = new Date(`${date}T00:00:00Z`);
  // A test's deliberately bad date stays bad in the time too.
  if (Number.isNaN(midnightUtc.getTime())) return `${date}T00:01:00+00:00`;
  const name = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' })
    .formatToParts(midnightUtc)
    .find((p) => p.type === 'timeZoneName')?.value;
  const hours = name === undefined || name === 'GMT' ? 0 : Number(name.slice(3));
  return `${date}T00:01:00+${String(hours).padStart(2, '0')}:00`;
}

export class FhirTestServer {
  readonly resources = new Map<string, Json>();
  readonly requests: { path: string; query: string; auth?: string }[] = [];
  readonly faults: Faults = { fail: 0, failStatus: 500, hang: 0, endless: 0 };
  private readonly sockets = new Set<Socket>();
  private clock = Date.parse('2026-11-01T00:00:00Z');
  private births = 0;
  private server?: http.Server;
  base = '';

  constructor(private readonly token?: string) {}

  async start(): Promise<this> {
    const app = express();
    app.use((req, res, next) => {
      this.requests.push({
        path: req.path,
        query: new URL(req.url, 'http://x').search,
        ...(req.get('authorization') ? { auth: req.get('authorization') } : {}),
      });
      if (this.token !== undefined && req.get('authorization') !== `Bearer ${this.token}`) {
        res.status(401).type('application/fhir+json').json(outcome('login', 'bearer token required'));
        return;
      }
      if (this.faults.hang > 0) {
        this.faults.hang--;
        return; // never answered
      }
      if (this.faults.endless > 0) {
        this.faults.endless--;
        res.writeHead(200, { 'content-type': 'application/fhir+json' });
        res.write('{"resourceType":"Bundle","type":"searchset","entry":[');
        const chunk = `${JSON.stringify({ resource: { resourceType: 'Basic', id: 'x'.repeat(60) } })},`.repeat(200);
        const pump = (): void => {
          while (res.write(chunk)) if (res.destroyed) return;
          if (!res.destroyed) res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        pump();
        return;
      }
      if (this.faults.fail > 0) {
        this.faults.fail--;
        res.status(this.faults.failStatus).type('application/fhir+json').json(outcome('transient', 'try later'));
        return;
      }
      next();
    });
    app.get('/fhir/:type/:id', (req: Request, res: Response) => {
      const r = this.resources.get(`${String(req.params.type)}/${String(req.params.id)}`);
      if (!r) res.status(404).type('application/fhir+json').json(outcome('not-found', 'no such resource'));
      else res.type('application/fhir+json').json(r);
    });
    app.get('/fhir/:type', (req: Request, res: Response) =>
      res.type('application/fhir+json').json(this.search(String(req.params.type), new URL(req.url, 'http://x').searchParams)),
    );
    this.server = http.createServer(app);
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fhir`;
    this.addCorpusPatient();
    return this;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Requests the server answered or was asked, for a path prefix (`/fhir/Patient`). */
  asked(prefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(prefix)).length;
  }

  /** meta.lastUpdated of a resource the server holds (`Patient/baby-1`). */
  lastUpdatedOf(reference: string): string {
    const meta = this.resources.get(reference)?.meta as { lastUpdated?: string } | undefined;
    if (meta?.lastUpdated === undefined) throw new Error(`the server holds no ${reference}`);
    return meta.lastUpdated;
  }

  private nextInstant(): string {
    this.clock += 1;
    return new Date(this.clock).toISOString();
  }

  private put(r: Json, lastUpdated?: string): void {
    const meta = (r.meta as Json | undefined) ?? {};
    r.meta = {
      ...meta,
      versionId: typeof meta.versionId === 'string' ? meta.versionId : '1',
      lastUpdated: lastUpdated ?? this.nextInstant(),
    };
    this.resources.set(`${String(r.resourceType)}/${String(r.id)}`, r);
  }

  /** The PDS example Patient (born 2010): found by searches without a birthdate filter, never by the poller's. */
  private addCorpusPatient(): void {
    const p = JSON.parse(readFileSync(corpusPath('fhir', 'pds-r4-patient', 'Patient.json'), 'utf8')) as Json;
    this.put(p);
  }

  /** A birth from the corpus's record-at-birth example, placeholders filled; its resources get ids and meta. */
  addBirth(o: BirthOptions): TestBirth {
    const n = ++this.births;
    const values: Record<string, unknown> = {
      babyGivenName: ['Ada'],
      familyName: 'Testbirth',
      babyGender: 'female',
      babyBirthDate: o.birthDate,
      babyBirthTime: firstMinuteInLondon(o.birthDate),
      babyBirthOrder: 1,
      babyBirthWeight: 3300,
      address: { use: 'home', line: ['1 Test Street'], city: 'Leeds', postalCode: o.postcode ?? 'LS9 7AB' },
      birthDate: '1994-03-02',
      givenName: ['Mary'],
      prefix: ['Mrs'],
      motherNhsNumber: '',
    };
    const template = JSON.parse(
      readFileSync(corpusPath('fhir', 'pds-r4-record-at-birth', 'create-pds-record-at-birth.json'), 'utf8'),
    ) as Json;
    const entries = template.entry as { fullUrl: string; resource: Json }[];
    const ids = new Map<string, string>();
    let counter = 0;
    const patients = entries.filter((e) => e.resource.resourceType === 'Patient');
    for (const e of entries) {
      const type = String(e.resource.resourceType);
      const id = e === patients[0] ? `baby-${n}` : e === patients[1] ? `mother-${n}` : `${type.toLowerCase()}-${n}-${++counter}`;
      ids.set(e.fullUrl, `${type}/${id}`);
      e.resource.id = id;
    }
    const fill = (v: unknown, key?: string): unknown => {
      if (typeof v === 'string') {
        const m = /^#\((\w+)\)$/.exec(v);
        if (m?.[1] !== undefined) {
          if (m[1] === 'motherNhsNumber') return key === 'value' ? o.motherNhsNumber : v;
          return values[m[1]];
        }
        return ids.get(v) ?? v;
      }
      if (Array.isArray(v)) return v.map((x) => fill(x));
      if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x, k)]));
      return v;
    };
    for (const e of entries) {
      const r = fill(e.resource) as Json;
      if (r === patients[0]?.resource || String(r.id) === `baby-${n}`) {
        r.identifier = [{ system: 'https://fhir.nhs.uk/Id/nhs-number', value: o.babyNhsNumber }];
        this.put(r, o.lastUpdated);
      } else this.put(r);
    }
    return { babyId: `baby-${n}`, motherId: `mother-${n}`, babyNhsNumber: o.babyNhsNumber, motherNhsNumber: o.motherNhsNumber };
  }

  private search(type: string, q: URLSearchParams): Json {
    let found = [...this.resources.values()].filter((r) => r.resourceType === type);
    const identifier = q.get('identifier');
    if (identifier !== null) {
      const [system, value] = identifier.split('|');
      found = found.filter((r) => ((r.identifier as Json[] | undefined) ?? []).some((i) => i.system === system && i.value === value));
    }
    const birthdate = q.get('birthdate');
    if (birthdate?.startsWith('ge') === true)
      found = found.filter((r) => typeof r.birthDate === 'string' && r.birthDate >= birthdate.slice(2));
    const lastUpdated = q.get('_lastUpdated');
    const lu = (r: Json): number => Date.parse(String((r.meta as Json).lastUpdated));
    if (lastUpdated !== null) {
      const at = Date.parse(lastUpdated.slice(2));
      found = found.filter((r) => (lastUpdated.startsWith('gt') ? lu(r) > at : lu(r) >= at));
    }
    for (const ref of ['patient', 'subject'] as const) {
      const want = q.get(ref);
      if (want !== null) found = found.filter((r) => (r[ref] as Json | undefined)?.reference === want);
    }
    if (q.get('_sort') === '_lastUpdated') found.sort((a, b) => lu(a) - lu(b) || String(a.id).localeCompare(String(b.id)));
    const count = Number(q.get('_count') ?? '50');
    const offset = Number(q.get('_offset') ?? '0');
    const page = found.slice(offset, offset + count);
    const link: Json[] = [{ relation: 'self', url: `${this.base}/${type}?${q.toString()}` }];
    if (offset + count < found.length) {
      const next = new URLSearchParams(q);
      next.set('_offset', String(offset + count));
      const origin = this.faults.foreignNextOrigin ?? new URL(this.base).origin;
      link.push({ relation: 'next', url: `${origin}/fhir/${type}?${next.toString()}` });
    }
    return {
      resourceType: 'Bundle',
      type: 'searchset',
      total: found.length,
      link,
      entry: page.map((r) => ({ fullUrl: `${this.base}/${type}/${String(r.id)}`, resource: r, search: { mode: 'match' } })),
    };
  }
}

const outcome = (code: string, diagnostics: string): Json => ({
  resourceType: 'OperationOutcome',
  issue: [{ severity: 'error', code, diagnostics }],
});
