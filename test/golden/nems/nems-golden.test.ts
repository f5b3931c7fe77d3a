/**
 * NHS national birth notification (NEMS, FHIR STU3) golden tests: input → canonical record (or why there is
 * none) → answer, compared with `fixtures/<case>.expected.json`. The inputs are the published NEMS examples,
 * read from the shared corpus (STORK_CORPUS, never copied here), and synthetic STU3 notifications built by
 * test/support/synthetic/nems-birth.ts (each also sent as XML, which must give exactly the same). Each is
 * received a few minutes after its MessageHeader.timestamp. Diagnostics are free text and not compared.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFeeds } from '../../../src/config/feeds.js';
import { loadFhirMappings } from '../../../src/config/fhir-mappings.js';
import type { FhirAssessment } from '../../../src/pipeline/fhir/assess-fhir.js';
import { answerForNems as answerFor, assessNemsMessage } from '../../../src/pipeline/fhir/nems-stu3.js';
import { corpusPath } from '../../support/corpus.js';
import { defined } from '../../support/defined.js';
import { nemsAsXml, nemsBirthBundle, type NemsBirthOptions } from '../../support/synthetic/nems-birth.js';
import { goldenComparable } from '../../support/fhir-golden.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const fixtures = path.join(here, 'fixtures');
const mappings = loadFhirMappings(path.join(repo, 'mappings', 'fhir'));
const feeds = loadFeeds(path.join(repo, 'mappings', 'feeds.json'));
const feed = defined(feeds.nemsById('nems-births'), 'the sample NEMS feed');
const IDS = { bundle: 'response-bundle', header: 'response-header', outcome: 'response-outcome' };

function assess(bytes: Buffer, encoding: 'json' | 'xml', receivedAt: Date): FhirAssessment {
  return assessNemsMessage(bytes, encoding, { feed, mapping: mappings.get(feed.mapping), receivedAt, maxBytes: 1024 * 1024 });
}

function comparable(a: FhirAssessment, at: Date): unknown {
  return goldenComparable(a, answerFor(a, IDS, at));
}

function expectGolden(name: string, got: unknown): void {
  const file = path.join(fixtures, `${name}.expected.json`);
  if (process.env.STORK_WRITE_GOLDEN === '1' && !existsSync(file)) writeFileSync(file, `${JSON.stringify(got, null, 2)}\n`);
  expect(got).toEqual(JSON.parse(readFileSync(file, 'utf8')));
}

const base = { timestamp: '2026-11-20T10:14:30+00:00', birthDate: '2026-11-19', birthTime: '2026-11-19T22:41:00+00:00' };
const SYNTHETIC_AT = new Date('2026-11-20T10:15:00Z');
const SYNTHETIC: readonly { name: string; options: NemsBirthOptions }[] = [
  { name: 'live-birth', options: { ...base, bundleId: 'nems-g0001', babyNhsNumber: '9990001561', motherNhsNumber: '9990009503' } },
  {
    name: 'natural-mother-coding',
    options: { ...base, bundleId: 'nems-g0002', babyNhsNumber: '9990001588', motherNhsNumber: '9990009503', relationship: 'NMTH' },
  },
  { name: 'older-event-pds003', options: { ...base, bundleId: 'nems-g0003', babyNhsNumber: '9990001596', event: 'PDS003' } },
  {
    name: 'stillborn',
    options: { ...base, bundleId: 'nems-g0004', babyNhsNumber: '9990001510', motherNhsNumber: '9990009503', stillbornIndicator: '2' },
  },
  {
    name: 'restricted',
    options: { ...base, bundleId: 'nems-g0005', babyNhsNumber: '9990001502', motherNhsNumber: '9990009503', security: 'R' },
  },
  {
    name: 'twin-1',
    options: {
      ...base,
      bundleId: 'nems-g0006',
      babyNhsNumber: '9990001529',
      motherNhsNumber: '9990009503',
      birthOrder: 1,
      numberOfBirths: 2,
      weightGrams: 2480,
    },
  },
  {
    name: 'twin-2',
    options: {
      ...base,
      birthTime: '2026-11-19T22:58:00+00:00',
      bundleId: 'nems-g0007',
      babyNhsNumber: '9990001537',
      babyGiven: 'EMEKA',
      motherNhsNumber: '9990009503',
      birthOrder: 2,
      numberOfBirths: 2,
      weightGrams: 2310,
    },
  },
  { name: 'not-a-birth-event', options: { ...base, bundleId: 'nems-g0008', event: 'pds-change-of-address-1' } },
];

describe('golden NEMS (FHIR STU3) birth notifications', () => {
  it.each([
    ['corpus-with-mother', 'BirthNotificationWithMother.xml', new Date('2017-10-02T20:25:00Z')],
    ['corpus-without-mother', 'BirthNotificationWithoutMother.xml', new Date('2020-01-13T14:35:00Z')],
  ] as const)('%s (the published example, from the corpus)', (name, file, at) => {
    const bytes = readFileSync(corpusPath('fhir', 'nems-stu3', file));
    expectGolden(`nems-${name}`, comparable(assess(bytes, 'xml', at), at));
  });

  it.each(SYNTHETIC.map((c) => [c.name, c.options] as const))('%s (synthetic, JSON and XML)', (name, options) => {
    const bundle = nemsBirthBundle(options);
    const got = comparable(assess(Buffer.from(JSON.stringify(bundle)), 'json', SYNTHETIC_AT), SYNTHETIC_AT);
    expectGolden(`nems-${name}`, got);
    expect(comparable(assess(Buffer.from(nemsAsXml(bundle)), 'xml', SYNTHETIC_AT), SYNTHETIC_AT)).toEqual(got);
  });

  it('no answer carries the personal data of its notification (NHS numbers, names, dates, postcodes)', () => {
    const inputs = [
      ...['BirthNotificationWithMother.xml', 'BirthNotificationWithoutMother.xml'].map((f) =>
        readFileSync(corpusPath('fhir', 'nems-stu3', f), 'utf8'),
      ),
      ...SYNTHETIC.map((c) => JSON.stringify(nemsBirthBundle(c.options))),
    ];
    let checked = 0;
    for (const text of inputs) {
      const xml = text.trimStart().startsWith('<');
      const answer = JSON.stringify(answerFor(assess(Buffer.from(text), xml ? 'xml' : 'json', SYNTHETIC_AT), IDS, SYNTHETIC_AT));
      const personal = new Set(
        text.match(/\b\d{10}\b|\b(DAWKINS|AZERA|OKONKWO-HART|Sally|Jack|ROSA)\b|\b(19|20)\d{2}-\d{2}-\d{2}\b|LS17 7DF|LS9 7AB/g) ?? [],
      );
      for (const p of personal) {
        expect([p, answer.includes(p)]).toEqual([p, false]);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});
