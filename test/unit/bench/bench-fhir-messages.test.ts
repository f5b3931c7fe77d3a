import { loadHubConfig } from '../../../src/config/hub-config.js';
import { repoRoot } from '../../../src/config/env.js';
import { isValidNhsNumber } from '../../../src/domain/nhs-number.js';
import { assessFhirMessage } from '../../../src/pipeline/fhir/assess-fhir.js';
import { generateFhirBirths } from '../../bench/bench-fhir-messages.js';
import { generateNewborns } from '../../bench/bench-messages.js';

interface Entry {
  resource: { resourceType: string; id?: string; identifier?: { system?: string; value?: string }[] };
}

/**
 * The bench's FHIR mode messages: each a distinct birth (Bundle.id, MessageHeader.id, baby NHS number, also distinct from the
 * HL7 v2 phases' babies), NHS numbers valid by Modulus 11, and each one a birth the sample FHIR feed accepts.
 */
describe('bench FHIR mode messages', () => {
  const config = loadHubConfig(repoRoot);
  const used = new Set<string>();
  const seed = { value: 1 };
  const hl7 = generateNewborns(50, 'H-', used, seed);
  const hl7Babies = new Set(used);
  const messages = generateFhirBirths(200, 'Fbench', used, { value: 1 });
  const bundles = messages.map((m) => JSON.parse(m.toString('utf8')) as { id: string; entry: Entry[] });
  const nhsOf = (e: Entry | undefined) =>
    e?.resource.identifier?.find((i) => i.system === 'https://fhir.nhs.uk/Id/nhs-number')?.value ?? '';

  test('unique Bundle.id, MessageHeader.id and baby NHS number; NHS numbers valid by Modulus 11', () => {
    expect(hl7).toHaveLength(50);
    expect(messages).toHaveLength(200);
    expect(new Set(bundles.map((b) => b.id)).size).toBe(200);
    expect(bundles.every((b, i) => b.id === `Fbench${i}`)).toBe(true);
    expect(new Set(bundles.map((b) => b.entry[0]?.resource.id)).size).toBe(200);
    const babies = bundles.map((b) => nhsOf(b.entry[1]));
    const mothers = bundles.map((b) => nhsOf(b.entry[2]));
    expect(new Set(babies).size).toBe(200);
    expect(babies.filter((n) => hl7Babies.has(n))).toEqual([]);
    expect([...babies, ...mothers].filter((n) => !isValidNhsNumber(n))).toEqual([]);
  });

  test('each is a birth the sample FHIR feed accepts (queued), with no placeholder left', () => {
    for (const m of messages.slice(0, 50)) {
      expect(m.toString('utf8')).not.toMatch(/__[A-Z_]+__/);
      const a = assessFhirMessage(m, 'json', {
        feeds: config.feeds,
        mappings: config.fhirMappings,
        receivedAt: new Date(),
        apiClientId: 'northgate-fhir-feed',
        maxBytes: 1 << 20,
      });
      expect({ status: a.status, issues: a.issues.filter((i) => i.severity === 'error') }).toEqual({ status: 'queued', issues: [] });
    }
  });
});
