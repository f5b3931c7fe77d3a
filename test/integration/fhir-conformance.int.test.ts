import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { corpusPath } from '../support/corpus.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { copySampleConfig } from '../support/sample-config.js';
import { sha256Hex } from '../../src/config/api-clients.js';
import { parseFhirXml, type JsonObject } from '../../src/pipeline/fhir/fhir-xml.js';

/**
 * Which endpoint each folder of the corpus's `fhir/` is fed to. FHIR R4 (UK Core examples, PDS R4 examples and stubs):
 * `$process-message` as an R4 feed's client. FHIR STU3 (the NEMS event messages, and the Digital Child Health audit
 * resources those messages carry: Patient, Practitioner, Organization, Device): `$process-message` as the NEMS feed's
 * client, Stork's one STU3 entry point (MESH hands its messages to the same intake). A folder added to the corpus
 * without a line here fails the run.
 */
const ENDPOINT_OF_FOLDER: Readonly<Record<string, 'r4' | 'nems'>> = {
  'ukcore-r4': 'r4',
  'ukcore-r4-json': 'r4',
  'pds-r4-patient': 'r4',
  'pds-r4-record-at-birth': 'r4',
  'nems-stu3': 'nems',
  'dch-stu3': 'nems',
};
const foldersFor = (endpoint: 'r4' | 'nems'): string[] =>
  Object.entries(ENDPOINT_OF_FOLDER)
    .filter(([, e]) => e === endpoint)
    .map(([folder]) => folder);

/** Every file of these corpus folders (each must be FHIR JSON or XML: anything else fails the run rather than being skipped). */
function corpusFiles(folders: string[]): { name: string; bytes: Buffer; xml: boolean; bundle: boolean }[] {
  return folders.flatMap((folder) => {
    const dir = corpusPath('fhir', folder);
    return readdirSync(dir)
      .sort()
      .map((f) => {
        const bytes = readFileSync(`${dir}/${f}`);
        const text = bytes.toString('utf8');
        const xml = f.endsWith('.xml');
        const bundle = xml ? /<Bundle\s/.test(text) : /"resourceType"\s*:\s*"Bundle"/.test(text.slice(0, 200));
        return { name: `${folder}/${f}`, bytes, xml, bundle };
      });
  });
}

/** The UK Core messaging framework examples' sender: configured as a FHIR feed so they are mapped, not just refused. */
const FRAMEWORK_ENDPOINT = 'urn:nhs-uk:addressing:mesh:Y90638OT001';
const CORPUS_KEY = 'corpus-fhir-key';

/**
 * The conformance run: every R4 file in the corpus is posted to `$process-message`, by the client of a FHIR feed
 * configured with the UK Core framework examples' source endpoint (so their message Bundles reach the mapping).
 * Each must be accepted (a response message) or answered with an OperationOutcome naming the problem, and
 * nothing may crash: any 5xx fails the run.
 */
describe('FHIR conformance: every R4 file of the corpus to $process-message', () => {
  let t: TestHub;
  let dir: string;
  beforeAll(async () => {
    dir = copySampleConfig();
    const feedsFile = path.join(dir, 'mappings', 'feeds.json');
    const feeds = JSON.parse(readFileSync(feedsFile, 'utf8')) as { feeds: object[] };
    feeds.feeds.push({
      id: 'corpus-framework',
      kind: 'fhir',
      name: 'UK Core messaging framework examples',
      sourceEndpoint: FRAMEWORK_ENDPOINT,
      apiClient: 'corpus-fhir-feed',
      mapping: 'uk-core-birth',
    });
    writeFileSync(feedsFile, JSON.stringify(feeds));
    const clientsFile = path.join(dir, 'mappings', 'api-clients.json');
    const clients = JSON.parse(readFileSync(clientsFile, 'utf8')) as { clients: object[] };
    clients.clients.push({ id: 'corpus-fhir-feed', keySha256: sha256Hex(CORPUS_KEY), role: 'feed', scope: 'corpus-framework' });
    writeFileSync(clientsFile, JSON.stringify(clients));
    t = await startTestHub({ configDir: dir });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('every folder and file of the corpus is fed to an endpoint: a new folder, or a file that is not JSON or XML, fails', () => {
    const root = corpusPath('fhir');
    const entries = readdirSync(root).sort();
    expect(entries.filter((e) => !statSync(path.join(root, e)).isDirectory())).toEqual([]);
    expect(entries.filter((folder) => ENDPOINT_OF_FOLDER[folder] === undefined)).toEqual([]);
    const notFhir = entries.flatMap((folder) =>
      readdirSync(path.join(root, folder))
        .filter((f) => !f.endsWith('.json') && !f.endsWith('.xml'))
        .map((f) => `${folder}/${f}`),
    );
    expect(notFhir).toEqual([]);
    // Each file is in exactly one of the runs below.
    const fed = [...corpusFiles(foldersFor('r4')), ...corpusFiles(foldersFor('nems'))].map((f) => f.name).sort();
    expect(fed).toEqual(entries.flatMap((folder) => readdirSync(path.join(root, folder)).map((f) => `${folder}/${f}`)).sort());
    expect(fed.length).toBeGreaterThanOrEqual(110);
  });

  it('each R4 file is accepted or answered with an OperationOutcome naming the problem; no 5xx', async () => {
    const files = corpusFiles(foldersFor('r4'));
    expect(files.filter((f) => f.bundle).length).toBeGreaterThanOrEqual(14);
    const answers: string[] = [];
    for (const f of files) {
      const res = await api(t.http, CORPUS_KEY, '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': f.xml ? 'application/fhir+xml' : 'application/fhir+json' },
        body: new Uint8Array(f.bytes),
      });
      const text = await res.text();
      const parsed = f.xml ? parseFhirXml(Buffer.from(text), 1 << 22) : { ok: true as const, resource: JSON.parse(text) as JsonObject };
      const body = parsed.ok ? parsed.resource : undefined;
      expect([f.name, res.status < 500]).toEqual([f.name, true]);
      if (res.status === 200) expect([f.name, body?.resourceType, body?.type]).toEqual([f.name, 'Bundle', 'message']);
      else {
        const issues = (body?.issue ?? []) as { severity?: string; code?: string; diagnostics?: string }[];
        expect([f.name, body?.resourceType]).toEqual([f.name, 'OperationOutcome']);
        expect([f.name, issues.length > 0 && issues.every((i) => typeof i.code === 'string' && (i.diagnostics ?? '').length > 0)]).toEqual([
          f.name,
          true,
        ]);
      }
      answers.push(`${f.name}: ${res.status}`);
    }
    // The framework's message Bundles got past the envelope and the sender checks, into the mapping.
    const mapped = await t.database.db.query<{ n: string | number }>(
      `SELECT count(*) AS n FROM messages WHERE feed_id = 'corpus-framework'`,
    );
    expect(Number(mapped.rows[0]?.n)).toBeGreaterThanOrEqual(2);
    // Whatever was received was stored, each answer recorded with it.
    const stored = await t.database.db.query<{ n: string | number }>(`SELECT count(*) AS n FROM messages WHERE format LIKE 'fhir-r4%'`);
    expect(Number(stored.rows[0]?.n)).toBe(files.length);
    expect(answers).toHaveLength(files.length);
    if (process.env.STORK_SHOW_ANSWERS === '1') console.log(answers.join('\n'));
  });

  // Every STU3 file (corpus/fhir/nems-stu3 and dch-stu3) posted by the sample NEMS feed's client (demo-nems-key): the
  // birth notifications are read (the published examples are from 2017 and 2020: not newborns now, so accepted as not
  // relevant), every other NEMS event is refused as not a birth notification, and a bare STU3 resource (the Digital
  // Child Health audit Patient, Practitioner, Organization, Device) as not a message Bundle; none crashes, all are stored.
  it('each STU3 file (NEMS, Digital Child Health) posted to the NEMS feed is accepted or answered with an OperationOutcome; no 5xx', async () => {
    const files = corpusFiles(foldersFor('nems'));
    expect(files.filter((f) => f.name.startsWith('nems-stu3/')).length).toBeGreaterThanOrEqual(28);
    expect(files.filter((f) => f.name.startsWith('dch-stu3/')).length).toBeGreaterThanOrEqual(5);
    const accepted: string[] = [];
    const refusedAsNotABundle: string[] = [];
    const ids = new Set<string>();
    for (const { name: f, bytes, xml } of files) {
      const res = await api(t.http, 'demo-nems-key', '/v1/fhir/$process-message', {
        method: 'POST',
        headers: { 'content-type': xml ? 'application/fhir+xml' : 'application/fhir+json' },
        body: new Uint8Array(bytes),
      });
      const text = await res.text();
      ids.add(res.headers.get('x-stork-message-id') ?? `${f}: no message id`);
      const parsed = xml
        ? parseFhirXml(Buffer.from(text), 1 << 22, 'stu3')
        : { ok: true as const, resource: JSON.parse(text) as JsonObject };
      const body = parsed.ok ? parsed.resource : undefined;
      expect([f, res.status < 500]).toEqual([f, true]);
      if (process.env.STORK_SHOW_ANSWERS === '1') console.log(`${f}: ${res.status} ${text.slice(0, 600)}`);
      if (res.status === 200) {
        expect([f, body?.resourceType, body?.type]).toEqual([f, 'Bundle', 'message']);
        accepted.push(f);
      } else {
        const issues = (body?.issue ?? []) as { code?: string; diagnostics?: string }[];
        expect([f, body?.resourceType]).toEqual([f, 'OperationOutcome']);
        expect([f, issues.length > 0 && issues.every((i) => typeof i.code === 'string' && (i.diagnostics ?? '').length > 0)]).toEqual([
          f,
          true,
        ]);
        if (issues.some((i) => (i.diagnostics ?? '').includes('Bundle'))) refusedAsNotABundle.push(f);
      }
    }
    expect(accepted).toEqual(['nems-stu3/BirthNotificationWithMother.xml', 'nems-stu3/BirthNotificationWithoutMother.xml']);
    // The Digital Child Health audit resources are told apart as what they are: a resource, not a message Bundle.
    expect(refusedAsNotABundle.filter((f) => f.startsWith('dch-stu3/'))).toEqual(
      files.filter((f) => f.name.startsWith('dch-stu3/')).map((f) => f.name),
    );
    // Each was stored (or is the re-send of one stored: some examples share their Bundle and MessageHeader ids).
    const stored = await t.database.db.query<{ id: string }>(
      `SELECT id FROM messages WHERE format LIKE 'fhir-stu3%' AND feed_id = 'nems-births' AND id = ANY($1::uuid[])`,
      [[...ids].filter((id) => /^[0-9a-f-]{36}$/.test(id))],
    );
    expect(stored.rows.map((r) => r.id).sort()).toEqual([...ids].sort());
  });
});
