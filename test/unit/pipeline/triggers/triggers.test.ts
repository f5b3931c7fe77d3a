import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../../../src/config/env.js';
import { loadTriggers } from '../../../../src/config/triggers.js';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { ICD10_SYSTEM, SNOMED_SYSTEM, valueSetHolds, type ValueSet } from '../../../../src/domain/trigger.js';
import { mapAttendance } from '../../../../src/pipeline/hl7v2/map-attendance.js';
import { aeAttendance } from '../../../support/synthetic/ae-attendance.js';

const SOURCE = { feedId: 'northgate-ae', messageControlId: 'X1', messageType: 'ADT', triggerEvent: 'A04' };
const CRITERIA = { events: ['A04'], patientClasses: ['E'] };

describe('triggers: value sets, the A&E attendance mapping and trigger agreements', () => {
  const set: ValueSet = {
    id: 'alcohol',
    name: 'Alcohol',
    codes: [
      { system: ICD10_SYSTEM, code: 'F10', descendants: true },
      { system: ICD10_SYSTEM, code: 'T51.0' },
      { system: SNOMED_SYSTEM, code: '25702006' },
    ],
  };

  test('a value set holds a code, its descendants when asked, ICD-10 with or without its dot; never another system', () => {
    expect(valueSetHolds(set, { system: ICD10_SYSTEM, code: 'F10.2' })).toBe(true);
    expect(valueSetHolds(set, { system: ICD10_SYSTEM, code: 'f102' })).toBe(true);
    expect(valueSetHolds(set, { system: ICD10_SYSTEM, code: 'T510' })).toBe(true);
    expect(valueSetHolds(set, { system: ICD10_SYSTEM, code: 'T51.1' })).toBe(false);
    expect(valueSetHolds(set, { system: ICD10_SYSTEM, code: 'F11.0' })).toBe(false);
    expect(valueSetHolds(set, { system: SNOMED_SYSTEM, code: '25702006' })).toBe(true);
    expect(valueSetHolds(set, { system: SNOMED_SYSTEM, code: 'F10' })).toBe(false);
  });

  test('an emergency A04 maps to an attendance with its codes and no display text; another class is not one', () => {
    const text = aeAttendance({
      controlId: 'X1',
      nhsNumber: '9991234578',
      family: 'PARENT',
      given: 'PAT',
      birthDate: '19900312',
      diagnoses: ['F10.0^Acute alcohol intoxication^I10~25702006^Alcohol intoxication^SCT'],
      admitReason: '^FELL OVER',
      restricted: true,
    });
    const out = mapAttendance(text, CRITERIA, SOURCE);
    expect(out.kind).toBe('attendance');
    if (out.kind !== 'attendance') return;
    expect(out.attendance.reasons).toEqual([
      { system: ICD10_SYSTEM, code: 'F10.0' },
      { system: SNOMED_SYSTEM, code: '25702006' },
    ]);
    expect(out.attendance.patient).toEqual({
      nhsNumber: '9991234578',
      nhsNumberStatus: '01',
      name: { family: 'PARENT', given: ['PAT'] },
      birthDate: '1990-03-12',
    });
    expect(out.attendance.confidentiality).toBe('restricted');
    expect(JSON.stringify(out.attendance)).not.toMatch(/intoxication|FELL/i);
    const inpatient = aeAttendance({ controlId: 'X2', family: 'P', given: 'Q', birthDate: '19900312', diagnoses: [], patientClass: 'I' });
    expect(mapAttendance(inpatient, CRITERIA, SOURCE).kind).toBe('not-attendance');
  });

  test('an NHS number failing its check digit is an error naming PID-3', () => {
    const text = aeAttendance({ controlId: 'X3', nhsNumber: '9991234579', family: 'P', given: 'Q', birthDate: '19900312', diagnoses: [] });
    const out = mapAttendance(text, CRITERIA, SOURCE);
    expect(out.kind).toBe('invalid');
    if (out.kind === 'invalid') expect(out.issues.map((i) => i.message)).toEqual(['PID-3: the NHS number fails its check digit']);
  });

  test('the sample trigger agreement loads; a bad code, system, ODS code or a missing lawful basis or review date stops start-up naming file and field', () => {
    const sample = loadTriggers(
      path.join(repoRoot, 'consent-rules'),
      path.join(repoRoot, 'mappings', 'agreements.json'),
      new Set(['northgate', 'southmoor']),
      new Set(),
    );
    expect(sample.all.map((d) => d.trigger.id)).toEqual(['parent-ae-alcohol']);
    expect(sample.byLocalAuthority.get('northgate')?.id).toBe('northgate-early-help-triggers');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-triggers-'));
    mkdirSync(path.join(dir, 'triggers'));
    const file = JSON.parse(
      readFileSync(path.join(repoRoot, 'consent-rules', 'triggers', 'northgate-early-help-triggers.json'), 'utf8'),
    ) as {
      triggers: { valueSet: { codes: Record<string, unknown>[] }; lawfulBasis?: string }[];
      reviewDate?: string;
      parties: { odsCode?: string }[];
    };
    const [t] = file.triggers;
    if (t === undefined) throw new Error('sample has a trigger');
    t.valueSet.codes.push({ system: ICD10_SYSTEM, code: 'alcohol' }, { system: 'http://example.org/local', code: 'X' });
    delete t.lawfulBasis;
    // Like every information-sharing agreement: a review date, and parties' ODS codes of the ODS form.
    delete file.reviewDate;
    const [discloser] = file.parties;
    if (discloser === undefined) throw new Error('sample has parties');
    discloser.odsCode = 'rx1 trust';
    writeFileSync(path.join(dir, 'triggers', 'bad.json'), JSON.stringify(file));
    let error: unknown;
    try {
      loadTriggers(dir, path.join(dir, 'none.json'), new Set(), new Set());
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/bad\.json: field \/triggers\/0\/valueSet\/codes\/6\/code: must match pattern/);
    expect(problems).toMatch(/bad\.json: field \/triggers\/0\/valueSet\/codes\/7\/system/);
    expect(problems).toMatch(/bad\.json: field \/triggers\/0: must have required property 'lawfulBasis'/);
    expect(problems).toMatch(/bad\.json: .*must have required property 'reviewDate'/);
    expect(problems).toMatch(/bad\.json: field \/parties\/0\/odsCode: must match pattern/);
  });
});
