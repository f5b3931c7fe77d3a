import { birthTimeOf, confidentialityOf, genderOf, nhsNumberOf, UK_CORE } from '../../../../src/pipeline/fhir/uk-core-checks.js';
import type { JsonObject } from '../../../../src/pipeline/fhir/fhir-xml.js';

const systems = { nhsNumber: UK_CORE.nhsNumberSystem, verificationStatusUrl: UK_CORE.verificationStatusUrl };
const status = (code: string, url: string = UK_CORE.verificationStatusUrl): JsonObject => ({
  url,
  valueCodeableConcept: { coding: [{ system: UK_CORE.verificationStatusSystem, code }] },
});
const patient = (...identifier: JsonObject[]): JsonObject => ({ resourceType: 'Patient', identifier });
const rule = { system: UK_CORE.confidentialitySystem, codes: { R: 'restricted', V: 'very-restricted' } as const };

describe('UK Core rules Stork relies on', () => {
  describe('NHS number identifier', () => {
    it('reads the NHS number system only, normalises DDD DDD DDDD, and reads the verification status', () => {
      const r = nhsNumberOf(
        patient(
          { system: 'https://fhir.northgate.example/Id/mrn', value: '123' },
          { system: UK_CORE.nhsNumberSystem, value: '999 000 1561', extension: [status('01')] },
        ),
        'Patient',
        systems,
      );
      expect(r).toEqual({ value: { nhsNumber: '9990001561', status: '01', expression: 'Patient.identifier[1].value' }, issues: [] });
    });

    it('refuses a number failing Modulus 11, or not ten digits, at its value', () => {
      expect(nhsNumberOf(patient({ system: UK_CORE.nhsNumberSystem, value: '9990001562' }), 'P', systems)).toEqual({
        issues: [expect.objectContaining({ code: 'value', expression: 'P.identifier[0].value', severity: 'error' })],
      });
      expect(nhsNumberOf(patient({ system: UK_CORE.nhsNumberSystem, value: '99900015' }), 'P', systems).issues[0]?.diagnostics).toMatch(
        /ten-digit/,
      );
      expect(nhsNumberOf(patient({ system: UK_CORE.nhsNumberSystem }), 'P', systems).issues[0]).toMatchObject({ code: 'required' });
    });

    it('reports a system that only looks like the NHS number system, rather than losing the number silently', () => {
      for (const wrong of [
        'http://fhir.nhs.uk/Id/nhs-number',
        'https://fhir.nhs.uk/Id/nhs-number/',
        'https://fhir.nhs.net/Id/nhs-number',
      ]) {
        const r = nhsNumberOf(patient({ system: wrong, value: '9990001561' }), 'P', systems);
        expect([wrong, r.value, r.issues.map((i) => [i.code, i.expression])]).toEqual([
          wrong,
          undefined,
          [['code-invalid', 'P.identifier[0].system']],
        ]);
      }
      // An unrelated local system is not an NHS number and not a problem.
      expect(nhsNumberOf(patient({ system: 'https://fhir.northgate.example/Id/mrn', value: '1' }), 'P', systems)).toEqual({ issues: [] });
    });

    it('refuses two NHS numbers on one person', () => {
      const r = nhsNumberOf(
        patient({ system: UK_CORE.nhsNumberSystem, value: '9990001561' }, { system: UK_CORE.nhsNumberSystem, value: '9990001588' }),
        'P',
        systems,
      );
      expect(r.issues).toEqual([expect.objectContaining({ code: 'invariant', expression: 'P.identifier[1]' })]);
    });

    it('a verification status outside 01–08, or under a misspelt extension URL, is a warning and is not used', () => {
      const bad = nhsNumberOf(patient({ system: UK_CORE.nhsNumberSystem, value: '9990001561', extension: [status('99')] }), 'P', systems);
      expect(bad.value?.status).toBeUndefined();
      expect(bad.issues).toEqual([
        expect.objectContaining({
          severity: 'warning',
          code: 'code-invalid',
          expression: 'P.identifier[0].extension[0].valueCodeableConcept',
        }),
      ]);
      const misspelt = nhsNumberOf(
        patient({
          system: UK_CORE.nhsNumberSystem,
          value: '9990001561',
          extension: [status('01', 'https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-NHSNumberVerificationStatusEngland')],
        }),
        'P',
        systems,
      );
      expect(misspelt.value?.status).toBeUndefined();
      expect(misspelt.issues).toEqual([expect.objectContaining({ severity: 'warning', expression: 'P.identifier[0].extension[0].url' })]);
    });
  });

  describe('confidentiality (meta.security)', () => {
    const labelled = (...security: JsonObject[]): JsonObject => ({ resourceType: 'Bundle', meta: { security } });
    it('R is restricted, V very restricted, the most restrictive wins; N or none is normal', () => {
      expect(confidentialityOf(labelled({ system: UK_CORE.confidentialitySystem, code: 'R' }), 'Bundle', rule)).toEqual({
        value: 'restricted',
        issues: [],
      });
      expect(
        confidentialityOf(
          labelled({ system: UK_CORE.confidentialitySystem, code: 'V' }, { system: UK_CORE.confidentialitySystem, code: 'R' }),
          'Bundle',
          rule,
        ).value,
      ).toBe('very-restricted');
      expect(confidentialityOf(labelled({ system: UK_CORE.confidentialitySystem, code: 'N' }), 'Bundle', rule)).toEqual({
        value: 'normal',
        issues: [],
      });
      expect(confidentialityOf({ resourceType: 'Bundle' }, 'Bundle', rule)).toEqual({ value: 'normal', issues: [] });
      // Another code system's label is not confidentiality.
      expect(
        confidentialityOf(labelled({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'R' }), 'Bundle', rule).value,
      ).toBe('normal');
    });

    it('an R without its system is still restricted (with a warning); an unknown confidentiality code is an error', () => {
      expect(confidentialityOf(labelled({ code: 'R' }), 'Bundle', rule)).toEqual({
        value: 'restricted',
        issues: [expect.objectContaining({ severity: 'warning', expression: 'Bundle.meta.security[0]' })],
      });
      expect(confidentialityOf(labelled({ system: UK_CORE.confidentialitySystem, code: 'X' }), 'Bundle', rule).issues).toEqual([
        expect.objectContaining({ severity: 'error', code: 'code-invalid', expression: 'Bundle.meta.security[0].code' }),
      ]);
    });
  });

  it('gender must be in administrative-gender', () => {
    expect(genderOf({ gender: 'female' }, 'P')).toEqual({ value: 'female', issues: [] });
    expect(genderOf({ gender: 'F' }, 'P').issues).toEqual([expect.objectContaining({ code: 'code-invalid', expression: 'P.gender' })]);
    expect(genderOf({}, 'P')).toEqual({ issues: [] });
  });

  it('birthTime: a dateTime with an offset, on the birthDate', () => {
    const url = 'http://hl7.org/fhir/StructureDefinition/patient-birthTime';
    const withTime = (v: string): JsonObject => ({ birthDate: '2026-11-19', _birthDate: { extension: [{ url, valueDateTime: v }] } });
    expect(birthTimeOf(withTime('2026-11-19T22:41:00+00:00'), 'P', url, '2026-11-19')).toEqual({
      value: '2026-11-19T22:41:00+00:00',
      issues: [],
    });
    expect(birthTimeOf(withTime('2026-11-19T22:41:00'), 'P', url, '2026-11-19').issues).toEqual([
      expect.objectContaining({ code: 'value', expression: 'P.birthDate.extension[0].valueDateTime' }),
    ]);
    expect(birthTimeOf(withTime('2026-11-20T00:10:00+00:00'), 'P', url, '2026-11-19').issues).toEqual([
      expect.objectContaining({ code: 'invariant' }),
    ]);
    expect(birthTimeOf({ birthDate: '2026-11-19' }, 'P', url, '2026-11-19')).toEqual({ issues: [] });
  });
});
