import { patientIdOn, readSignalEvent } from '../../../../src/pipeline/fhir/signal-event.js';

const SOURCE = 'https://maternity.northgate.example/fhir';
const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const cloudEvent = (extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'evt-1',
  source: SOURCE,
  type: 'uk.nhs.maternity.birth-recorded',
  data: { nhsNumber: '9990001545', patient: 'Patient/baby-1' },
  ...extra,
});
const parameters = (subject: unknown, extra: Record<string, unknown> = {}) => ({
  resourceType: 'Parameters',
  id: 'evt-2',
  parameter: [
    { name: 'source', valueUri: SOURCE },
    { name: 'type', valueCode: 'birth' },
    { name: 'subject', valueReference: subject },
  ],
  ...extra,
});

describe('Signal events (CloudEvents 1.0 JSON, FHIR Parameters)', () => {
  it('reads a CloudEvents event: id, source, type, NHS number and Patient reference', () => {
    expect(readSignalEvent(json(cloudEvent()), false)).toEqual({
      ok: true,
      event: {
        form: 'cloudevents',
        eventId: 'evt-1',
        source: SOURCE,
        type: 'uk.nhs.maternity.birth-recorded',
        patientReference: 'Patient/baby-1',
        nhsNumber: '9990001545',
      },
    });
    // The subject attribute names the Patient when data does not.
    const bySubject = readSignalEvent(json(cloudEvent({ subject: 'Patient/x', data: {} })), false);
    expect(bySubject).toMatchObject({ ok: true, event: { patientReference: 'Patient/x' } });
  });

  it('names every bad CloudEvents field', () => {
    const r = readSignalEvent(
      json({ specversion: '0.3', id: '', source: 7, data: { nhsNumber: '9990001546', patient: 'Observation/1' } }),
      false,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.field)).toEqual(['specversion', 'id', 'source', 'type', 'data.nhsNumber', 'data.patient']);
    expect(readSignalEvent(json(cloudEvent({ data: {} })), false)).toMatchObject({ ok: false, problems: [{ field: 'data' }] });
  });

  it('reads a FHIR Parameters event by reference or by NHS number identifier', () => {
    expect(readSignalEvent(json(parameters({ reference: 'Patient/baby-2' })), true)).toEqual({
      ok: true,
      event: { form: 'fhir', eventId: 'evt-2', source: SOURCE, type: 'birth', patientReference: 'Patient/baby-2' },
    });
    const byNhs = readSignalEvent(
      json(parameters({ identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9990001545' } })),
      true,
    );
    expect(byNhs).toMatchObject({ ok: true, event: { nhsNumber: '9990001545' } });
  });

  it('names bad FHIR elements by FHIRPath', () => {
    const bad = readSignalEvent(json(parameters({ identifier: { system: 'urn:other', value: '9990001545' } }, { id: undefined })), true);
    expect(bad).toMatchObject({
      ok: false,
      form: 'fhir',
      problems: [{ field: 'Parameters.id' }, { field: "Parameters.parameter.where(name='subject').valueReference.identifier" }],
    });
    expect(readSignalEvent(json({ resourceType: 'Patient' }), true)).toMatchObject({ ok: false, problems: [{ field: 'resourceType' }] });
    expect(readSignalEvent(json(cloudEvent()), true)).toMatchObject({ ok: false, problems: [{ field: 'resourceType' }] });
  });

  it('refuses bodies that are not JSON objects, or nest too deep, without throwing', () => {
    expect(readSignalEvent(Buffer.from('not json'), false)).toMatchObject({ ok: false, form: 'unknown' });
    expect(readSignalEvent(json([1]), false)).toMatchObject({ ok: false, form: 'unknown' });
    let deep: unknown = {};
    for (let i = 0; i < 100; i++) deep = { a: deep };
    expect(readSignalEvent(json(deep), false)).toMatchObject({ ok: false, problems: [{ field: '(body)' }] });
  });

  it('takes a Patient reference only on the feed’s own FHIR server', () => {
    const base = 'https://fhir.northgate.example/R4';
    expect(patientIdOn(base, 'Patient/abc-1')).toBe('abc-1');
    expect(patientIdOn(base, `${base}/Patient/abc-1`)).toBe('abc-1');
    expect(patientIdOn(`${base}/`, `${base}/Patient/abc-1`)).toBe('abc-1');
    expect(patientIdOn(base, 'https://evil.example/R4/Patient/abc-1')).toBeUndefined();
    expect(patientIdOn(base, `${base}/Patient/abc-1/_history/2`)).toBeUndefined();
    expect(patientIdOn(base, `${base}Evil/Patient/abc-1`)).toBeUndefined();
  });
});
