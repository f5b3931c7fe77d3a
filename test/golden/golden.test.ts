/**
 * Golden tests: each fixture (`fixtures/<case>.hl7`, or a corpus file) is mapped and compared with
 * `fixtures/<case>.expected.json`. The expected file is an object so other stages can add their part
 * (e.g. `ack`) next to `outcome`. Issue messages are not compared (wording may improve); severity, code,
 * HL7 location and canonical path are.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Issue } from '../../src/domain/issue.js';
import { loadHl7v2Mappings } from '../../src/config/hl7v2-mappings.js';
import { mapHl7v2, type MapOutcome } from '../../src/pipeline/hl7v2/map-hl7v2.js';
import { corpusPath } from '../support/corpus.js';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { GOLDEN_CASES, GOLDEN_CONTEXT } from './golden-cases.js';
import { goldenAck } from './golden-ack.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const mappings = loadHl7v2Mappings(path.resolve(here, '..', '..', 'mappings', 'hl7v2'));

/** The comparable part of an outcome: issues without their free-text message. */
export function comparable(out: MapOutcome): unknown {
  if (out.kind === 'not-relevant') return out;
  // A bug in the mapping code never matches an expected outcome.
  if (out.kind === 'internal') return { kind: 'internal', error: out.error.name };
  const strip = (i: Issue): Omit<Issue, 'message'> => {
    const { message: _m, ...rest } = i;
    return rest;
  };
  return { ...out, issues: out.issues.map(strip) };
}

describe('golden HL7 v2 cases', () => {
  it.each(GOLDEN_CASES.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const input = c.corpus !== undefined ? corpusPath(c.corpus) : path.join(fixtures, `${name}.hl7`);
    const text = readFileSync(input, 'utf8');
    const expected = JSON.parse(readFileSync(path.join(fixtures, `${name}.expected.json`), 'utf8')) as { outcome: unknown; ack: string[] };
    expect(comparable(mapHl7v2(text, mappings.get(c.mapping), GOLDEN_CONTEXT))).toEqual(expected.outcome);
    // Then the ACK the sender gets for it (segments as an array for readable diffs).
    const mapper = (t: string) => mapHl7v2(t, mappings.get(c.mapping), GOLDEN_CONTEXT);
    expect(goldenAck(text, c.mapping, mapper, GOLDEN_CONTEXT.receivedAt).split('\r').filter(Boolean)).toEqual(expected.ack);
  });

  it('fixtures are what the generator produces (deterministic generator)', () => {
    for (const c of GOLDEN_CASES.filter((x) => x.generate !== undefined)) {
      const file = path.join(fixtures, `${c.name}.hl7`);
      expect(existsSync(file)).toBe(true);
      expect([c.name, readFileSync(file, 'utf8')]).toEqual([c.name, newbornAdt(c.generate)]);
    }
  });

  it('every issue message is free of the personal data in its fixture', () => {
    for (const c of GOLDEN_CASES.filter((x) => x.generate !== undefined)) {
      const text = readFileSync(path.join(fixtures, `${c.name}.hl7`), 'utf8');
      const out = mapHl7v2(text, mappings.get(c.mapping), GOLDEN_CONTEXT);
      const personal = text.match(/\b[0-9]{8,}\b|\b[A-Z]{3,}\b/g) ?? [];
      const allowed = new Set(['NHS', 'PID', 'MSH', 'NK1', 'PD1', 'ADT', 'MTH']);
      for (const i of out.kind === 'not-relevant' || out.kind === 'internal' ? [] : out.issues) {
        for (const p of personal.filter((w) => !allowed.has(w))) expect(i.message).not.toContain(p);
      }
    }
  });
});
