import fs from 'node:fs';
import path from 'node:path';
import { configFiles, loadHubConfig } from '../../../src/config/hub-config.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

type Json = Record<string, unknown>;
const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const writeJson = (file: string, data: unknown): void => fs.writeFileSync(file, JSON.stringify(data, null, 2));
const feedsOf = (data: Json) => data.feeds as Json[];
const fhirIndex = (data: Json) => feedsOf(data).findIndex((f) => f.kind === 'fhir');

describe('FHIR configuration (mappings/fhir, FHIR feeds)', () => {
  it('the sample loads its FHIR feed, its mapping and its client', () => {
    const config = loadHubConfig(copySampleConfig('stork-fhir-config-'));
    expect(config.fhirMappings.names()).toEqual(['nems-birth-notification', 'uk-core-birth']);
    expect(config.feeds.fhirFeeds.map((f) => [f.id, f.apiClient, f.mapping])).toEqual([
      ['northgate-fhir', 'northgate-fhir-feed', 'uk-core-birth'],
    ]);
    expect(config.feeds.fhirByEndpoint('https://maternity.northgate.example/fhir')?.id).toBe('northgate-fhir');
    // HL7 v2 lookups never see a FHIR feed.
    expect(config.feeds.feeds.map((f) => f.id)).not.toContain('northgate-fhir');
  });

  it('update events are accepted events; one that is also a birth event stops start-up naming the field', () => {
    const config = loadHubConfig(copySampleConfig('stork-fhir-config-'));
    const uk = config.fhirMappings.get('uk-core-birth');
    const update = 'https://fhir.nhs.uk/CodeSystem/message-event|birth-notification-update';
    expect(uk.updateEvents).toEqual(new Set([update]));
    expect(uk.events.has(update)).toBe(true);
    const dir = copySampleConfig('stork-fhir-config-');
    const file = path.join(configFiles(dir).fhirMappings, 'uk-core-birth.json');
    const data = readJson(file);
    data.updateEvents = [{ system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'patient' }];
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: field /updateEvents/0: code patient of https://fhir.nhs.uk/CodeSystem/message-event is already a birth event (/events)`,
    ]);
  });

  it('a bad mapping file stops start-up naming the file and the field', () => {
    const dir = copySampleConfig('stork-fhir-config-');
    const file = path.join(configFiles(dir).fhirMappings, 'uk-core-birth.json');
    const data = readJson(file);
    (data.births as Json).maxAgeDays = 'four weeks';
    ((data.observations as Json).birthWeight as Json).units = { g: 0 };
    delete data.events;
    writeJson(file, data);
    const err = configError(() => loadHubConfig(dir));
    expect(err.problems).toEqual(
      expect.arrayContaining([
        `${file}: field (top level): must have required property 'events' (events)`,
        `${file}: field /births/maxAgeDays: must be integer`,
        `${file}: field /observations/birthWeight/units/g: must be > 0`,
      ]),
    );
  });

  it('the antenatal section: its events are accepted; a bad section stops start-up naming the file and the field', () => {
    const uk = loadHubConfig(copySampleConfig('stork-fhir-config-')).fhirMappings.get('uk-core-birth');
    const booking = 'https://fhir.nhs.uk/CodeSystem/message-event|antenatal-booking';
    const outcome = 'https://fhir.nhs.uk/CodeSystem/message-event|pregnancy-outcome';
    expect([uk.antenatalBookingEvents, uk.antenatalLossEvents]).toEqual([new Set([booking]), new Set([outcome])]);
    expect(uk.events.has(booking) && uk.events.has(outcome)).toBe(true);
    const dir = copySampleConfig('stork-fhir-config-');
    const file = path.join(configFiles(dir).fhirMappings, 'uk-core-birth.json');
    const data = readJson(file);
    const antenatal = data.antenatal as Json;
    delete (antenatal.dueDate as Json).observationCodes;
    antenatal.lossCodes = [];
    antenatal.bookingEvents = [{ system: 'https://fhir.nhs.uk/CodeSystem/message-event' }];
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual(
      expect.arrayContaining([
        `${file}: field /antenatal/dueDate: must have required property 'observationCodes' (observationCodes)`,
        `${file}: field /antenatal/lossCodes: must NOT have fewer than 1 items`,
        `${file}: field /antenatal/bookingEvents/0: must have required property 'code' (code)`,
      ]),
    );
    const again = readJson(path.join(configFiles(copySampleConfig('stork-fhir-config-')).fhirMappings, 'uk-core-birth.json'));
    const section = again.antenatal as Json;
    section.lossEvents = [{ system: 'https://fhir.nhs.uk/CodeSystem/message-event', code: 'antenatal-booking' }];
    section.lossCodes = [{ system: 'http://snomed.info/sct', code: '77386006' }];
    writeJson(file, again);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: field /antenatal/lossEvents/0: code antenatal-booking of https://fhir.nhs.uk/CodeSystem/message-event is already another kind of event`,
      `${file}: field /antenatal/lossCodes/0: code 77386006 of http://snomed.info/sct is already used at /antenatal/pregnancyConditions/0`,
    ]);
  });

  it('a mapping that gives one code to two measurements, or looks for deaths less long than births, is refused', () => {
    const dir = copySampleConfig('stork-fhir-config-');
    const file = path.join(configFiles(dir).fhirMappings, 'uk-core-birth.json');
    const data = readJson(file);
    const obs = data.observations as Json;
    (obs.gestation as Json).codes = [{ system: 'http://snomed.info/sct', code: '364589006' }];
    (data.births as Json).deathWindowDays = 7;
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: field /observations/gestation/codes/0: code 364589006 of http://snomed.info/sct is already used at /observations/birthWeight/codes/0`,
      `${file}: field /births/deathWindowDays: must be at least maxAgeDays (a death is looked for at least as long as a birth)`,
    ]);
  });

  it('a FHIR feed must name a known FHIR mapping, its required fields, and a unique source endpoint', () => {
    const dir = copySampleConfig('stork-fhir-config-');
    const file = configFiles(dir).feeds;
    const data = readJson(file);
    const i = fhirIndex(data);
    const feed = feedsOf(data)[i];
    if (!feed) throw new Error('the sample needs a FHIR feed');
    feed.mapping = 'itk-adt';
    delete feed.sourceEndpoint;
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: field /feeds/${i}: must have required property 'sourceEndpoint' (sourceEndpoint)`,
    ]);
    feed.sourceEndpoint = 'https://maternity.northgate.example/fhir';
    feedsOf(data).push({ ...feed, id: 'second-fhir', mapping: 'uk-core-birth' });
    writeJson(file, data);
    const problems = configError(() => loadHubConfig(dir)).problems;
    expect(problems).toContain(
      `${file}: field /feeds/${i}/mapping: no FHIR mapping (mappings/fhir) named "itk-adt" (known: nems-birth-notification, uk-core-birth)`,
    );
    expect(problems).toContain(
      `${file}: field /feeds/${feedsOf(data).length - 1}/sourceEndpoint: another FHIR feed has source endpoint "https://maternity.northgate.example/fhir"`,
    );
  });

  it("a FHIR feed's apiClient must be a feed client scoped to that feed", () => {
    const dir = copySampleConfig('stork-fhir-config-');
    const file = configFiles(dir).feeds;
    const data = readJson(file);
    const feed = feedsOf(data)[fhirIndex(data)];
    if (!feed) throw new Error('the sample needs a FHIR feed');
    feed.apiClient = 'northvale-feed';
    writeJson(file, data);
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: FHIR feed "northgate-fhir" field apiClient: "northvale-feed" must be an API client with role feed and scope "northgate-fhir" in ${configFiles(dir).apiClients}`,
    ]);
  });
});
