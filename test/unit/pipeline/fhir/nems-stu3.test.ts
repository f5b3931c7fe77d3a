import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { loadFeeds } from '../../../../src/config/feeds.js';
import { loadFhirMappings } from '../../../../src/config/fhir-mappings.js';
import { parseFhirXml, type JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { assessNemsMessage } from '../../../../src/pipeline/fhir/nems-stu3.js';
import { corpusPath } from '../../../support/corpus.js';
import { defined } from '../../../support/defined.js';
import { nemsBirthBundle, type NemsBirthOptions } from '../../../support/synthetic/nems-birth.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const mappings = loadFhirMappings(path.join(repo, 'mappings', 'fhir'));
const feed = defined(loadFeeds(path.join(repo, 'mappings', 'feeds.json')).nemsById('nems-births'), 'the sample NEMS feed');
const AT = new Date('2026-11-20T10:15:00Z');
const base: NemsBirthOptions = {
  bundleId: 'nems-u0001',
  timestamp: '2026-11-20T10:14:30+00:00',
  birthDate: '2026-11-19',
  babyNhsNumber: '9990001561',
  motherNhsNumber: '9990009503',
};
const assess = (b: JsonObject) =>
  assessNemsMessage(Buffer.from(JSON.stringify(b)), 'json', {
    feed,
    mapping: mappings.get(feed.mapping),
    receivedAt: AT,
    maxBytes: 1 << 20,
  });
const entryOf = (b: JsonObject, type: string): JsonObject =>
  defined(
    (b.entry as { resource: JsonObject }[]).map((e) => e.resource).find((r) => r.resourceType === type),
    type,
  );

describe('NEMS STU3 birth notifications', () => {
  it("STU3 XML is read with the STU3 model: MessageHeader.event and timestamp are kept (R4's model has neither)", () => {
    const bytes = readFileSync(corpusPath('fhir', 'nems-stu3', 'BirthNotificationWithMother.xml'));
    const stu3 = parseFhirXml(bytes, 1 << 20, 'stu3');
    const header = stu3.ok ? entryOf(stu3.resource, 'MessageHeader') : undefined;
    expect(header?.event).toMatchObject({ code: 'pds-birth-notification-1' });
    expect(header?.timestamp).toBe('2017-10-02T20:20:00+00:00');
    expect(parseFhirXml(bytes, 1 << 20, 'r4').ok).toBe(false);
  });

  it('an unreadable stillbirth indicator makes the baby deceased (never offered), with a warning', () => {
    const b = nemsBirthBundle(base);
    const still = (b.entry as { resource: JsonObject }[])
      .map((e) => e.resource)
      .find((r) => r.code !== undefined && JSON.stringify(r.code).includes('237364002'));
    defined(still, 'the stillbirth Observation').valueCodeableConcept = { text: 'unknown' };
    const a = assess(b);
    expect(a.notification?.baby.deceased).toBe(true);
    expect(a.issues).toEqual([expect.objectContaining({ severity: 'warning', path: 'baby.deceased' })]);
    expect(assess(nemsBirthBundle(base)).notification?.baby.deceased).toBe(false);
  });

  it('a restricted label in the R4 spelling of the Confidentiality system is read all the same; V is very restricted', () => {
    const b = nemsBirthBundle(base);
    entryOf(b, 'Patient').meta = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] };
    expect(assess(b).notification?.confidentiality).toBe('restricted');
    expect(assess(nemsBirthBundle({ ...base, security: 'V' })).notification?.confidentiality).toBe('very-restricted');
  });

  it('without a mother RelatedPerson the baby cannot be told from the mother: refused, naming the element', () => {
    const b = nemsBirthBundle(base);
    b.entry = (b.entry as { resource: JsonObject }[]).filter((e) => e.resource.resourceType !== 'RelatedPerson');
    const a = assess(b);
    expect(a).toMatchObject({ status: 'quarantined', httpStatus: 422 });
    expect(a.issues[0]).toMatchObject({ code: 'required', expression: 'Bundle.entry.resource.ofType(RelatedPerson).patient' });
  });

  it("a body that is not FHIR is refused as the feed's, never thrown", () => {
    const a = assessNemsMessage(Buffer.from('<Bundle xmlns="http://hl7.org/fhir"><nonsense/></Bundle>'), 'xml', {
      feed,
      mapping: mappings.get(feed.mapping),
      receivedAt: AT,
      maxBytes: 1 << 20,
    });
    expect(a).toMatchObject({ status: 'quarantined', feed: { id: 'nems-births' }, senderVerified: true });
    expect(a.httpStatus).toBeGreaterThanOrEqual(400);
    expect(a.httpStatus).toBeLessThan(500);
  });
});
