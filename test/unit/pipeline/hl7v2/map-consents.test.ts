import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { loadHl7v2Mappings } from '../../../../src/config/hl7v2-mappings.js';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { buildHl7v2Mappings } from '../../../../src/pipeline/hl7v2/build-mappings.js';
import { mapHl7v2, type MapOutcome } from '../../../../src/pipeline/hl7v2/map-hl7v2.js';
import { describeNewborn } from '../../../support/synthetic/newborn-adt.js';

const set = loadHl7v2Mappings(path.join(repoRoot, 'mappings', 'hl7v2'));
const ctx = { feedId: 'test-feed', receivedAt: new Date('2025-06-15T09:00:30Z') };
const con = (type: string, status: string, from = '', to = ''): string =>
  ['CON', '1', type, '', '', '', '', '', '', '', '', status, '', '', from, to].join('|');

function mapWith(mapping: 'itk-adt' | 'northvale-trust', extra: string, o: Parameters<typeof describeNewborn>[0] = {}): MapOutcome {
  const d = describeNewborn({ seed: 70, ...(mapping === 'northvale-trust' ? { northvale: true } : {}), ...o });
  return mapHl7v2(`${d.text}${extra}\r`, set.get(mapping), ctx);
}

describe('consents in HL7 v2 messages', () => {
  it('maps a CON segment (v2.6+: CON-2 type, CON-11 status, CON-14/15 period) about the baby and mother', () => {
    const d = describeNewborn({ seed: 70 });
    const out = mapWith('itk-adt', con('OFFER^Offer of support', 'R', '20250601', '20260601'));
    if (out.kind !== 'birth') throw new Error(JSON.stringify(out));
    expect(out.notification.consents).toEqual([
      {
        kind: 'objection',
        scope: 'offer-of-support',
        recipient: 'any',
        from: '2025-06-01',
        to: '2026-06-01',
        source: 'hl7v2',
        motherNhsNumber: d.mother?.nhsNumber,
        babyNhsNumber: d.baby.nhsNumber,
      },
    ]);
  });

  it('maps consent (A), rescinded (X, an objection) and skips a pending (P) one; no CON segment means no consents', () => {
    const out = mapWith('itk-adt', [con('CLINICAL', 'A'), con('OFFER', 'X'), con('OFFER', 'P')].join('\r'));
    if (out.kind !== 'birth') throw new Error(JSON.stringify(out));
    expect(out.notification.consents?.map((c) => [c.kind, c.scope])).toEqual([
      ['consent', 'clinical-details'],
      ['objection', 'offer-of-support'],
    ]);
    const none = mapWith('itk-adt', 'NTE|1||nothing');
    expect(none.kind === 'birth' && none.notification.consents).toBe(undefined);
  });

  it('refuses the message for a code no table knows, a missing kind or a bad date, naming the segment and field', () => {
    const unknown = mapWith('itk-adt', con('OFFER', 'Q'));
    expect(unknown.kind).toBe('invalid');
    expect(unknown.kind === 'invalid' && unknown.issues[0]).toMatchObject({ code: '103', location: { segment: 'CON', field: 11 } });
    const noScope = mapWith('itk-adt', con('WHAT', 'R'));
    expect(noScope.kind === 'invalid' && noScope.issues[0]?.location).toMatchObject({ segment: 'CON', field: 2 });
    const badDate = mapWith('itk-adt', con('OFFER', 'R', '2025'));
    expect(badDate.kind === 'invalid' && badDate.issues[0]).toMatchObject({ code: '102', location: { segment: 'CON', field: 14 } });
    const backwards = mapWith('itk-adt', con('OFFER', 'R', '20260101', '20250101'));
    expect(backwards.kind).toBe('invalid');
  });

  it('maps the Northvale ZCN Z-segment the mapping file declares', () => {
    const out = mapWith('northvale-trust', 'ZCN|objection|offer-of-support|20250101');
    if (out.kind !== 'birth') throw new Error(JSON.stringify(out));
    expect(out.notification.consents).toMatchObject([
      { kind: 'objection', scope: 'offer-of-support', from: '2025-01-01', source: 'hl7v2' },
    ]);
    // The ITK mapping declares no ZCN: the segment is not read.
    const itk = mapWith('itk-adt', 'ZCN|objection|offer-of-support');
    expect(itk.kind === 'birth' && itk.notification.consents).toBe(undefined);
  });

  it('refuses a consent that cannot be keyed: no NHS number for the baby or the mother', () => {
    const out = mapWith('itk-adt', con('OFFER', 'R'), { withoutNhsNumber: true, motherVia: 'pid21' });
    // The generator's PID-21 carries the mother's NHS number; without it, the consent could not be kept.
    expect(out.kind).toBe('birth');
    const stripped = describeNewborn({ seed: 71, withoutNhsNumber: true });
    const text = stripped.text.replace(/^NK1.*$/m, 'NK1|1').replace(/^(PID(\|[^|\r]*){20})\|[^|\r]*/m, '$1|');
    const refused = mapHl7v2(`${text}${con('OFFER', 'R')}\r`, set.get('itk-adt'), ctx);
    expect(refused.kind).toBe('invalid');
    expect(refused.kind === 'invalid' && refused.issues.map((i) => i.message)).toEqual([
      "a consent needs the baby's or the mother's NHS number in the message, to be kept in the register",
    ]);
  });

  it('checks the consents section at load: paths in its segment, known tables with allowed values', () => {
    const base = { fields: { 'baby.birth': { path: 'PID-7' } }, tables: { k: { Y: 'objection' }, s: { O: 'offer-of-support' } } };
    const build =
      (consents: unknown, tables: unknown = base.tables) =>
      () =>
        buildHl7v2Mappings([{ name: 'a', file: 'a.json', data: { ...base, tables, consents } as never }], 'dir');
    expect(
      build({ segment: 'ZCN', kind: { path: 'ZCN-1', table: 'k' }, scope: { path: 'ZCN-2', table: 's' } })()
        .get('a')
        .segments.has('ZCN'),
    ).toBe(true);
    expect(build({ segment: 'ZCN', kind: { path: 'PID-1', table: 'k' }, scope: { path: 'ZCN-2', table: 's' } })).toThrow(
      /a.json: field \/consents\/kind\/path: must be a path in ZCN/,
    );
    expect(build({ segment: 'ZCN', kind: { path: 'ZCN-1', table: 'nope' }, scope: { path: 'ZCN-2', table: 's' } })).toThrow(ConfigError);
    expect(
      build(
        { segment: 'ZCN', kind: { path: 'ZCN-1', table: 'k' }, scope: { path: 'ZCN-2', table: 's' } },
        { k: { Y: 'yes' }, s: base.tables.s },
      ),
    ).toThrow(/\/tables\/k\/Y: must be consent, objection or none/);
  });
});
