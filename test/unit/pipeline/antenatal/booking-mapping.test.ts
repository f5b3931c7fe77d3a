import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { buildHl7v2Mappings, validateHl7v2MappingFile } from '../../../../src/pipeline/hl7v2/build-mappings.js';
import { mapHl7v2 } from '../../../../src/pipeline/hl7v2/map-hl7v2.js';
import type { Hl7v2MappingFile } from '../../../../src/pipeline/hl7v2/mapping-types.js';
import { bookingMessage, lossMessage, nhsNumberFrom } from '../../../support/synthetic/antenatal-booking.js';

const read = (name: string): Hl7v2MappingFile => {
  const data: unknown = JSON.parse(readFileSync(path.join(repoRoot, 'mappings', 'hl7v2', `${name}.json`), 'utf8'));
  if (!validateHl7v2MappingFile(data)) throw new Error(`${name} must be valid`);
  return data;
};
const build = (booking: Hl7v2MappingFile) =>
  buildHl7v2Mappings(
    [
      { name: 'itk-adt', file: 'itk-adt.json', data: read('itk-adt') },
      { name: 'maternity-booking', file: 'maternity-booking.json', data: booking },
    ],
    'mappings/hl7v2',
  ).get('maternity-booking');

describe('the HL7 v2 mapping’s antenatal section (issue 17)', () => {
  const mother = { nhs: nhsNumberFrom(999_300_001), family: 'LANYON', given: 'BEATRIX', dob: '19900101', postcode: 'LS9 7AB' };
  const ctx = { feedId: 'northgate-maternity-booking', receivedAt: new Date('2026-11-29T10:20:00Z') };

  it('maps a booking (mother, due date, pregnancy, GP, consent) and the two kinds of loss', () => {
    const mapping = build(read('maternity-booking'));
    const booking = mapHl7v2(
      bookingMessage(mother, { controlId: 'U1', dueDate: '20270410', pregnancyId: 'P9', consent: 'A' }),
      mapping,
      ctx,
    );
    expect(booking).toMatchObject({
      kind: 'antenatal',
      event: {
        kind: 'antenatal-booking',
        booking: {
          mother: { nhsNumber: mother.nhs, name: { family: 'LANYON' }, birthDate: '1990-01-01', address: { postcode: 'LS9 7AB' } },
          estimatedDueDate: '2027-04-10',
          pregnancyId: 'P9',
          gpPractice: { odsCode: 'B86001' },
          confidentiality: 'normal',
          source: { event: 'SIU^S12', messageControlId: 'U1' },
        },
        consents: [{ kind: 'consent', scope: 'antenatal', motherNhsNumber: mother.nhs, source: 'hl7v2' }],
      },
    });
    expect(mapHl7v2(lossMessage(mother, { controlId: 'U2', pregnancyId: 'P9' }), mapping, ctx)).toMatchObject({
      kind: 'antenatal',
      event: { kind: 'pregnancy-loss', motherNhsNumber: mother.nhs, pregnancyId: 'P9' },
    });
    expect(mapHl7v2(lossMessage(mother, { controlId: 'U3', outcomeCode: '57797005' }), mapping, ctx)).toMatchObject({
      event: { kind: 'pregnancy-loss' },
    });
    expect(mapHl7v2(lossMessage(mother, { controlId: 'U4', outcomeCode: '281050002' }), mapping, ctx).kind).toBe('not-relevant');
  });

  it('refuses a booking without the mother’s valid NHS number or a due date to the day, naming the field', () => {
    const mapping = build(read('maternity-booking'));
    const noDue = mapHl7v2(bookingMessage(mother, { controlId: 'U5' }), mapping, ctx);
    expect(noDue).toMatchObject({ kind: 'invalid', issues: [{ path: 'estimatedDueDate', location: { segment: 'OBX', field: 5 } }] });
    const month = mapHl7v2(bookingMessage(mother, { controlId: 'U6', dueDate: '202704' }), mapping, ctx);
    expect(month).toMatchObject({ kind: 'invalid', issues: [{ message: 'the estimated due date is not a valid date to the day' }] });
    const badNhs = mapHl7v2(bookingMessage({ ...mother, nhs: '9990000019' }, { controlId: 'U7', dueDate: '20270410' }), mapping, ctx);
    expect(badNhs).toMatchObject({
      kind: 'invalid',
      issues: [{ path: 'mother.nhsNumber', message: "the mother's NHS number fails its check digit" }],
    });
  });

  it('a bad section stops loading, naming the file and field', () => {
    expect(validateHl7v2MappingFile({ antenatal: { bookingEvents: [], dueDate: { path: 'OBX-5' } } })).toBe(false);
    const bad = read('maternity-booking');
    if (bad.antenatal === undefined) throw new Error('the sample has an antenatal section');
    bad.antenatal = { ...bad.antenatal, dueDate: { path: 'OBX-5', segmentWhere: { path: 'PV1-3.1', in: ['X'] } } };
    expect(() => build(bad)).toThrow(ConfigError);
    expect(() => build(bad)).toThrow(
      'maternity-booking.json: field /antenatal/dueDate/segmentWhere: selects PV1 but the value is read from OBX',
    );
  });
});
