import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { configFiles, inboxIds, loadHubConfig } from '../../../src/config/hub-config.js';
import { loadFeeds } from '../../../src/config/feeds.js';
import { FeedDirectory, type FeedConfig } from '../../../src/pipeline/hl7v2/feed-directory.js';
import { ApiClientDirectory, loadApiClients, sha256Hex, type ApiClient } from '../../../src/config/api-clients.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

type Json = Record<string, unknown>;

function readJson(file: string): Json {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
}

function writeJson(file: string, data: unknown): void {
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

interface FeedsJson {
  feeds: (Partial<FeedConfig> & Json)[];
}
interface ClientsJson {
  clients: (Partial<ApiClient> & Json)[];
}
interface CatchmentsJson {
  localAuthorities: { id: string; centres: { id: string; postcodes: string[] }[] }[];
}

const tempDirs: string[] = [];

/** A fresh copy of the repository's sample configuration. */
function sampleCopy(): string {
  const dir = copySampleConfig('stork-hub-config-');
  tempDirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const sampleMappingNames = (): string[] =>
  fs
    .readdirSync(path.join(REPO, 'mappings', 'hl7v2'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();

describe('configFiles', () => {
  it('lays out a configuration folder', () => {
    expect(configFiles('/cfg')).toEqual({
      feeds: '/cfg/mappings/feeds.json',
      hl7v2Mappings: '/cfg/mappings/hl7v2',
      fhirMappings: '/cfg/mappings/fhir',
      catchments: '/cfg/mappings/catchments.json',
      apiClients: '/cfg/mappings/api-clients.json',
      webApp: '/cfg/mappings/web-app.json',
      rulesDir: '/cfg/consent-rules',
      agreements: '/cfg/mappings/agreements.json',
      retention: '/cfg/mappings/retention.json',
    });
  });
});

describe('loadHubConfig with the repository sample', () => {
  const config = loadHubConfig(REPO);

  it('loads every part', () => {
    expect(config.configDir).toBe(REPO);
    expect(config.mappings.names().sort()).toEqual(sampleMappingNames());
    const sampleFeeds = readJson(path.join(REPO, 'mappings', 'feeds.json')) as unknown as FeedsJson;
    expect([...config.feeds.feeds, ...config.feeds.fhirFeeds, ...config.feeds.nemsFeeds].map((f) => f.id)).toEqual(
      sampleFeeds.feeds.map((f) => f.id),
    );
    for (const feed of config.feeds.feeds)
      expect({ feed: feed.id, known: config.mappings.has(feed.mapping) }).toEqual({ feed: feed.id, known: true });
    expect(config.catchments.centres.has('east-end-park')).toBe(true);
  });

  it('finds the Northgate maternity feed by MSH-4 and MSH-3', () => {
    const feed = config.feeds.find('RX1', 'MATERNITY');
    expect(feed?.id).toBe('northgate-maternity');
    expect(feed?.mapping).toBe('itk-adt');
    expect(config.feeds.find('RX1', 'PAS')?.id).toBe('northgate-maternity');
    expect(config.feeds.find('RX1', 'LAB')).toBeUndefined();
    expect(config.feeds.find('ZZZ', 'MATERNITY')).toBeUndefined();
    expect(config.feeds.byId('northgate-maternity')).toBe(feed);
    expect(config.feeds.byId('nope')).toBeUndefined();
  });

  it('authenticates the demo admin key as the operator', () => {
    const client = config.apiClients.authenticate('demo-admin-key');
    expect(client).toEqual({ id: 'operator', keySha256: sha256Hex('demo-admin-key'), role: 'admin' });
  });

  it('rejects a wrong key, an empty key and the hash itself', () => {
    expect(config.apiClients.authenticate('demo-admin-key ')).toBeUndefined();
    expect(config.apiClients.authenticate('wrong')).toBeUndefined();
    expect(config.apiClients.authenticate('')).toBeUndefined();
    expect(config.apiClients.authenticate(sha256Hex('demo-admin-key'))).toBeUndefined();
  });

  it("the inbox ids include every centre, review and the hub's unallocated inbox", () => {
    const ids = inboxIds(config.catchments);
    for (const id of config.catchments.centres.keys()) expect(ids).toContain(id);
    expect(ids).toContain('safeguarding-review');
    expect(ids).toContain('unallocated');
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('loadHubConfig with a broken copy', () => {
  it('the untouched copy loads', () => {
    const dir = sampleCopy();
    expect(loadHubConfig(dir).configDir).toBe(dir);
  });

  it('a missing configuration folder is named', () => {
    const dir = path.join(os.tmpdir(), 'stork-no-such-config-dir-8c1f');
    const err = configError(() => loadHubConfig(dir));
    expect(err.message).toBe(`STORK_CONFIG_DIR ${dir} does not exist`);
  });

  it('feeds.json: a feed without `mapping` names the file and /feeds/0', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    const data = readJson(file) as unknown as FeedsJson;
    delete data.feeds[0]?.mapping;
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.message.startsWith(`Invalid configuration in ${dir}:\n`)).toBe(true);
    expect(err.problems).toContain(`${file}: field /feeds/0: must have required property 'mapping' (mapping)`);
  });

  it('feeds.json: a back-fill mode needs an ISO instant `until` and a reason, named by field', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    const data = readJson(file) as unknown as FeedsJson;
    const feed = data.feeds[0];
    if (!feed) throw new Error('the sample needs a feed');
    Object.assign(feed, { backfill: { until: 'next Tuesday' } });
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toEqual([
      `${file}: field /feeds/0/backfill: must have required property 'reason' (reason)`,
      `${file}: field /feeds/0/backfill/until: must match format "date-time"`,
    ]);
    feed.backfill = { until: '2027-01-31T00:00:00Z', reason: 'INC-4711 archive replay' };
    writeJson(file, data);
    expect(loadHubConfig(dir).feeds.feeds[0]?.backfill).toEqual({ until: '2027-01-31T00:00:00Z', reason: 'INC-4711 archive replay' });
  });

  it('feeds.json: a mapping name that does not exist names /feeds/1/mapping', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    const data = readJson(file) as unknown as FeedsJson;
    const feed = data.feeds[1];
    if (!feed) throw new Error('the sample needs two feeds');
    feed.mapping = 'no-such-mapping';
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems.filter((p) => p.startsWith(`${file}: `))).toEqual([
      `${file}: field /feeds/1/mapping: no mapping named "no-such-mapping" (known: ${loadHubConfig(REPO).mappings.names().join(', ')})`,
    ]);
    expect(err.message).toContain(`${file}: field /feeds/1/mapping: no mapping named "no-such-mapping"`);
  });

  it('feeds.json: bad JSON names the file', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    fs.writeFileSync(file, '{ "feeds": [ { "id": "x", } ] }');
    const err = configError(() => loadHubConfig(dir));
    const mine = err.problems.filter((p) => p.startsWith(`${file}: `));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatch(/^.*feeds\.json: not valid JSON \(/);
  });

  it.each([
    ['feeds.json is not JSON', 'feeds', (file: string) => fs.writeFileSync(file, 'not json')],
    [
      'feeds.json names an unknown mapping',
      'feeds',
      (file: string) => {
        const data = readJson(file) as unknown as FeedsJson;
        const feed = data.feeds[0];
        if (feed) feed.mapping = 'itk-adt-typo';
        writeJson(file, data);
      },
    ],
    [
      'catchments.json has a bad postcode',
      'catchments',
      (file: string) => {
        const data = readJson(file) as unknown as CatchmentsJson;
        const centre = data.localAuthorities.flatMap((la) => la.centres).find((c) => c.postcodes.length > 0);
        if (centre) centre.postcodes[0] = 'ls9 7ab';
        writeJson(file, data);
      },
    ],
  ] as const)('%s: only that file is blamed, api-clients.json gets no knock-on scope errors', (_name, which, breakIt) => {
    const dir = sampleCopy();
    const files = configFiles(dir);
    breakIt(files[which]);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.problems.filter((p) => !p.startsWith(`${files[which]}: `))).toEqual([]);
  });

  it('feeds.json: a duplicate feed id names /feeds/1/id', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    const data = readJson(file) as unknown as FeedsJson;
    const [first, second] = data.feeds;
    if (!first || !second) throw new Error('the sample needs two feeds');
    second.id = first.id;
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toContain(`${file}: field /feeds/1/id: duplicate feed id "${String(first.id)}"`);
  });

  it('api-clients.json: a bad keySha256 names /clients/n/keySha256', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).apiClients;
    const data = readJson(file) as unknown as ClientsJson;
    const n = data.clients.findIndex((c) => c.id === 'operator');
    const client = data.clients[n];
    if (!client) throw new Error('the sample needs the operator client');
    client.keySha256 = 'AC5BB3526D3BE432';
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toEqual([`${file}: field /clients/${n}/keySha256: must match pattern "^[0-9a-f]{64}$"`]);
  });

  it('api-clients.json: a centre scope naming no centre names /clients/n/scope', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).apiClients;
    const data = readJson(file) as unknown as ClientsJson;
    const n = data.clients.findIndex((c) => c.role === 'centre');
    const client = data.clients[n];
    if (!client) throw new Error('the sample needs a centre client');
    client.scope = 'atlantis-family-hub';
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toEqual([`${file}: field /clients/${n}/scope: no centre or inbox has id "atlantis-family-hub"`]);
  });

  it('catchments.json: a bad postcode names the file and its field', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).catchments;
    const data = readJson(file) as unknown as CatchmentsJson;
    let where = '';
    data.localAuthorities.forEach((la, i) =>
      la.centres.forEach((c, k) => {
        if (where === '' && c.postcodes.length > 0) {
          c.postcodes[0] = 'ls9 7ab';
          where = `/localAuthorities/${i}/centres/${k}/postcodes/0`;
        }
      }),
    );
    expect(where).not.toBe('');
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    const mine = err.problems.filter((p) => p.startsWith(`${file}: `));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.startsWith(`${file}: field ${where}: must match pattern`)).toBe(true);
    expect(err.message).toContain(`${file}: field ${where}`);
  });

  it('reports problems in several files together', () => {
    const dir = sampleCopy();
    const files = configFiles(dir);
    const feeds = readJson(files.feeds) as unknown as FeedsJson;
    const feed = feeds.feeds[0];
    if (!feed) throw new Error('the sample needs a feed');
    feed.mapping = 'missing-one';
    writeJson(files.feeds, feeds);
    const clients = readJson(files.apiClients) as unknown as ClientsJson;
    const op = clients.clients.find((c) => c.id === 'operator');
    if (!op) throw new Error('the sample needs the operator client');
    op.role = 'superuser' as ApiClient['role'];
    writeJson(files.apiClients, clients);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems.some((p) => p.startsWith(`${files.feeds}: field /feeds/0/mapping: no mapping named "missing-one"`))).toBe(true);
    expect(err.problems.some((p) => p.startsWith(`${files.apiClients}: field /clients/`) && p.includes('/role'))).toBe(true);
  });
});

describe('loadFeeds and FeedDirectory', () => {
  const feed = (over: Partial<FeedConfig>): FeedConfig => ({
    id: 'f',
    name: 'F',
    sendingFacility: 'RX1',
    messageTypes: { ADT: ['A28'] },
    versions: ['2.4'],
    processingIds: ['P'],
    mapping: 'itk-adt',
    ...over,
  });

  it('a feed without sendingApplications accepts any application; the first matching feed wins', () => {
    const dir = new FeedDirectory([
      feed({ id: 'maternity', sendingApplications: ['MAT'] }),
      feed({ id: 'catch-all' }),
      feed({ id: 'other-trust', sendingFacility: 'RX2' }),
    ]);
    expect(dir.find('RX1', 'MAT')?.id).toBe('maternity');
    expect(dir.find('RX1', 'ANYTHING')?.id).toBe('catch-all');
    expect(dir.find('RX2', '')?.id).toBe('other-trust');
    expect(dir.find('rx1', 'MAT')).toBeUndefined();
  });

  it('rejects bad values by schema, naming each field', () => {
    const dir = sampleCopy();
    const file = configFiles(dir).feeds;
    writeJson(file, {
      feeds: [{ ...feed({}), id: 'Bad Id', versions: ['3.0'], processingIds: ['X'], messageTypes: { adt: ['A28'] }, extra: 1 }],
    });
    const err = configError(() => loadFeeds(file, new Set(['itk-adt'])));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/field \/feeds\/0: must NOT have additional properties \(extra\)$/),
        expect.stringMatching(/field \/feeds\/0\/id: must match pattern/),
        expect.stringMatching(/field \/feeds\/0\/versions\/0: must match pattern/),
        expect.stringMatching(/field \/feeds\/0\/processingIds\/0: must be equal to one of the allowed values/),
      ]),
    );
    for (const p of err.problems) expect(p.startsWith(`${file}: field /feeds/0`)).toBe(true);
  });

  it('a missing file is named', () => {
    const file = path.join(sampleCopy(), 'mappings', 'absent.json');
    const err = configError(() => loadFeeds(file, new Set()));
    expect(err.message).toBe(`${file}: cannot be read (ENOENT)`);
  });
});

describe('loadApiClients and ApiClientDirectory', () => {
  const known = { feedFacilities: new Set(['RX1']), centreIds: new Set(['east-end-park']) };

  function write(clients: unknown[]): string {
    const file = path.join(sampleCopy(), 'mappings', 'api-clients.json');
    writeJson(file, { clients });
    return file;
  }

  it('sha256Hex is the hex SHA-256 of the UTF-8 text', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('demo-admin-key')).toBe('ac5bb3526d3be432ba19fb1fc0712d350c160bd2169cd24401c9fcaeaac2d860');
  });

  it('authenticates each client by its own key', () => {
    const dir = new ApiClientDirectory([
      { id: 'a', keySha256: sha256Hex('key-a'), role: 'feed', scope: 'RX1' },
      { id: 'b', keySha256: sha256Hex('key-b'), role: 'ig' },
    ]);
    expect(dir.authenticate('key-a')?.id).toBe('a');
    expect(dir.authenticate('key-b')?.id).toBe('b');
    expect(dir.authenticate('key-c')).toBeUndefined();
  });

  it('a feed or centre client without scope is a schema error', () => {
    const file = write([
      { id: 'f', keySha256: sha256Hex('1'), role: 'feed' },
      { id: 'c', keySha256: sha256Hex('2'), role: 'centre' },
      { id: 'i', keySha256: sha256Hex('3'), role: 'ig' },
    ]);
    const err = configError(() => loadApiClients(file, known));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        `${file}: field /clients/0: must have required property 'scope' (scope)`,
        `${file}: field /clients/1: must have required property 'scope' (scope)`,
      ]),
    );
    expect(err.problems.some((p) => p.includes('/clients/2'))).toBe(false);
  });

  it('reports duplicate ids, a key given twice and scopes naming nothing, all at once', () => {
    const file = write([
      { id: 'dup', keySha256: sha256Hex('same'), role: 'admin' },
      { id: 'dup', keySha256: sha256Hex('same'), role: 'ig' },
      { id: 'feed-x', keySha256: sha256Hex('x'), role: 'feed', scope: 'RX7' },
      { id: 'centre-y', keySha256: sha256Hex('y'), role: 'centre', scope: 'nowhere' },
    ]);
    const err = configError(() => loadApiClients(file, known));
    expect(err.problems).toEqual([
      `${file}: field /clients/1/id: duplicate client id "dup"`,
      `${file}: field /clients/1/keySha256: the same key is given to two clients`,
      `${file}: field /clients/2/scope: no feed has sending facility "RX7"`,
      `${file}: field /clients/3/scope: no centre or inbox has id "nowhere"`,
    ]);
    expect(err.message).toBe(err.problems.join('\n'));
  });

  it('loads a valid file', () => {
    const file = write([
      { id: 'feed-1', keySha256: sha256Hex('k1'), role: 'feed', scope: 'RX1' },
      { id: 'centre-1', keySha256: sha256Hex('k2'), role: 'centre', scope: 'east-end-park' },
    ]);
    const dir = loadApiClients(file, known);
    expect(dir.clients.map((c) => c.id)).toEqual(['feed-1', 'centre-1']);
    expect(dir.authenticate('k2')).toEqual({ id: 'centre-1', keySha256: sha256Hex('k2'), role: 'centre', scope: 'east-end-park' });
  });
});
