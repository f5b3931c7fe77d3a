/**
 * FHIR R4 golden tests: each input Bundle (`fixtures/<case>.bundle.json`) → the canonical record (or why
 * there is none) → the answer (response message Bundle or OperationOutcome), compared with
 * `fixtures/<case>.expected.json`. The same Bundle sent as XML must give exactly the same. Diagnostics are
 * free text and not compared; severity, code, FHIRPath expression and canonical path are.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFeeds } from '../../../src/config/feeds.js';
import { answerFor, assessFhirMessage, type FhirAssessment } from '../../../src/pipeline/fhir/assess-fhir.js';
import { loadFhirMappings } from '../../../src/config/fhir-mappings.js';
import type { JsonObject } from '../../../src/pipeline/fhir/fhir-xml.js';
import { asXml, fhirBirthBundle } from '../../support/synthetic/fhir-birth.js';
import { FHIR_GOLDEN_CASES, FHIR_GOLDEN_RECEIVED_AT } from './fhir-golden-cases.js';
import { goldenComparable } from '../../support/fhir-golden.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const fixtures = path.join(here, 'fixtures');
const mappings = loadFhirMappings(path.join(repo, 'mappings', 'fhir'));
const feeds = loadFeeds(path.join(repo, 'mappings', 'feeds.json'));
const IDS = { bundle: 'response-bundle', header: 'response-header', outcome: 'response-outcome' };

function assess(bytes: Buffer, encoding: 'json' | 'xml'): FhirAssessment {
  return assessFhirMessage(bytes, encoding, {
    feeds,
    mappings,
    receivedAt: FHIR_GOLDEN_RECEIVED_AT,
    apiClientId: 'northgate-fhir-feed',
    maxBytes: 1024 * 1024,
  });
}

/** What the golden file holds: the decision, the canonical record, the issues without their words, the answer. */
function comparable(a: FhirAssessment): unknown {
  return goldenComparable(a, answerFor(a, IDS, FHIR_GOLDEN_RECEIVED_AT));
}

describe('golden FHIR R4 cases', () => {
  it.each(FHIR_GOLDEN_CASES.map((c) => [c.name] as const))('%s (JSON and XML)', (name) => {
    const bundle = readFileSync(path.join(fixtures, `${name}.bundle.json`));
    const expectedFile = path.join(fixtures, `${name}.expected.json`);
    const got = comparable(assess(bundle, 'json'));
    if (process.env.STORK_WRITE_GOLDEN === '1' && !existsSync(expectedFile))
      writeFileSync(expectedFile, `${JSON.stringify(got, null, 2)}\n`);
    expect(got).toEqual(JSON.parse(readFileSync(expectedFile, 'utf8')));
    const xml = Buffer.from(asXml(JSON.parse(bundle.toString('utf8')) as JsonObject));
    expect(comparable(assess(xml, 'xml'))).toEqual(got);
  });

  it('fixtures are what the generator produces', () => {
    for (const c of FHIR_GOLDEN_CASES) {
      const file = path.join(fixtures, `${c.name}.bundle.json`);
      const generated = `${JSON.stringify(fhirBirthBundle(c.bundle), null, 2)}\n`;
      if (process.env.STORK_WRITE_GOLDEN === '1' && !existsSync(file)) writeFileSync(file, generated);
      expect([c.name, JSON.parse(readFileSync(file, 'utf8')) as unknown]).toEqual([c.name, JSON.parse(generated) as unknown]);
    }
  });

  it('no diagnostics sent back carry the personal data of their bundle', () => {
    for (const c of FHIR_GOLDEN_CASES) {
      const text = readFileSync(path.join(fixtures, `${c.name}.bundle.json`), 'utf8');
      const answer = JSON.stringify(answerFor(assess(Buffer.from(text), 'json'), IDS, FHIR_GOLDEN_RECEIVED_AT));
      for (const personal of [...new Set(text.match(/\b\d{10}\b|\b[A-Z]{4,}(-[A-Z]+)?\b|\b\d{4}-\d{2}-\d{2}\b|LS9 7AB|Wykebeck/g) ?? [])])
        expect([c.name, personal, answer.includes(personal)]).toEqual([c.name, personal, false]);
    }
  });
});
