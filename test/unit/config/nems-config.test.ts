import fs from 'node:fs';
import path from 'node:path';
import { configFiles, loadHubConfig } from '../../../src/config/hub-config.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

type Json = Record<string, unknown>;
const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const writeJson = (file: string, data: unknown): void => fs.writeFileSync(file, JSON.stringify(data, null, 2));
const feedsOf = (data: Json) => data.feeds as Json[];
const nemsIndex = (data: Json) => feedsOf(data).findIndex((f) => f.kind === 'nems');

describe('NEMS configuration (a feed of kind nems, mappings/fhir/nems-birth-notification.json)', () => {
  it('the sample loads its NEMS feed, found by its API client and by id, never as an HL7 v2 or FHIR R4 feed', () => {
    const config = loadHubConfig(copySampleConfig('stork-nems-config-'));
    expect(config.feeds.nemsFeeds.map((f) => [f.id, f.apiClient, f.mapping])).toEqual([
      ['nems-births', 'nems-feed', 'nems-birth-notification'],
    ]);
    expect(config.feeds.nemsForClient('nems-feed')?.id).toBe('nems-births');
    expect(config.feeds.nemsForClient('northgate-fhir-feed')).toBeUndefined();
    expect(config.feeds.nemsById('nems-births')?.kind).toBe('nems');
    expect([...config.feeds.feeds, ...config.feeds.fhirFeeds].map((f) => f.id)).not.toContain('nems-births');
    expect(config.fhirMappings.get('nems-birth-notification').file.nems?.stillbirth.liveIndicators).toHaveLength(1);
  });

  it('a bad nems section of the mapping stops start-up naming the file and the field', () => {
    const dir = copySampleConfig('stork-nems-config-');
    const file = path.join(configFiles(dir).fhirMappings, 'nems-birth-notification.json');
    const data = readJson(file);
    const nems = data.nems as Json;
    delete nems.deliveryPlaceEpisode;
    nems.gpDirectoryPrefix = 'http://directory.example/no-trailing-slash';
    (nems.stillbirth as Json).liveIndicators = [];
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual(
      expect.arrayContaining([
        `${file}: field /nems: must have required property 'deliveryPlaceEpisode' (deliveryPlaceEpisode)`,
        `${file}: field /nems/gpDirectoryPrefix: must match pattern "^https://\\S+/$"`,
        `${file}: field /nems/stillbirth/liveIndicators: must NOT have fewer than 1 items`,
      ]),
    );
  });

  it('a NEMS feed needs a mapping with a nems section, and its own feed client', () => {
    const dir = copySampleConfig('stork-nems-config-');
    const file = configFiles(dir).feeds;
    const data = readJson(file);
    const feed = feedsOf(data)[nemsIndex(data)];
    if (!feed) throw new Error('the sample needs a NEMS feed');
    feed.mapping = 'uk-core-birth';
    feed.apiClient = 'northgate-fhir-feed';
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: NEMS feed "nems-births" field apiClient: "northgate-fhir-feed" must be an API client with role feed and scope "nems-births" in ${configFiles(dir).apiClients}`,
      `${file}: NEMS feed "nems-births" field mapping: "uk-core-birth" has no nems section (mappings/fhir)`,
    ]);
  });

  it('a NEMS feed is checked as one: no sourceEndpoint, its required fields', () => {
    const dir = copySampleConfig('stork-nems-config-');
    const file = configFiles(dir).feeds;
    const data = readJson(file);
    const i = nemsIndex(data);
    const feed = feedsOf(data)[i];
    if (!feed) throw new Error('the sample needs a NEMS feed');
    feed.sourceEndpoint = 'urn:nhs:addressing:asid:477121000323';
    delete feed.apiClient;
    writeJson(file, data);
    const problems = configError(() => loadHubConfig(dir)).problems;
    expect(problems).toContain(`${file}: field /feeds/${i}: must have required property 'apiClient' (apiClient)`);
    expect(problems.some((p) => p.startsWith(`${file}: field /feeds/${i}`) && p.includes('sourceEndpoint'))).toBe(true);
  });
});
