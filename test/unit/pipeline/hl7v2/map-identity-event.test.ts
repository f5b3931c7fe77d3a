import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../../../src/domain/config-error.js';
import { loadHl7v2Mappings } from '../../../../src/config/hl7v2-mappings.js';
import { mapHl7v2, type MapOutcome } from '../../../../src/pipeline/hl7v2/map-hl7v2.js';
import { assessHl7v2 } from '../../../../src/pipeline/hl7v2/assess-hl7v2.js';
import { buildAck } from '../../../../src/pipeline/hl7v2/ack.js';
import { identityKeys, identifierKinds, isIdentityEvent } from '../../../../src/domain/identity-event.js';
import { corpusPath } from '../../../support/corpus.js';
import { cx, linkAdt, mergeAdt } from '../../../support/synthetic/identity-adt.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const set = loadHl7v2Mappings(path.join(repo, 'mappings', 'hl7v2'));
const itk = set.get('itk-adt');
const ctx = { feedId: 'northgate-maternity', receivedAt: new Date('2026-06-15T09:00:30Z') };

function identity(out: MapOutcome) {
  if (out.kind !== 'identity') throw new Error(`expected identity, got ${JSON.stringify(out)}`);
  return out.event;
}
function invalid(out: MapOutcome) {
  if (out.kind !== 'invalid') throw new Error(`expected invalid, got ${JSON.stringify(out)}`);
  return out.issues;
}

describe('HL7 v2 identity events (A40 merge, A24 link, A37 unlink) with the ITK mapping', () => {
  it('maps the NHS ITK A40 example: PID-3 the surviving NHS number, MRG-1 the merged local id (MRG-5, a visit number, is not read)', () => {
    const text = readFileSync(corpusPath('hl7v2', 'nhs-itk-uk', 'A40_Example.hl7'), 'utf8');
    const e = identity(mapHl7v2(text, itk, ctx));
    expect(e).toEqual({
      kind: 'merge',
      merges: [{ surviving: { nhsNumber: '3333333333', local: [] }, merged: { local: [{ value: '22789', assigner: 'LOCALID' }] } }],
      source: { feedId: 'northgate-maternity', messageControlId: '13403891320453338088', event: 'ADT^A40' },
    });
    // Mapped whatever the patient's age (this one was born in 1965): a merge is not a birth.
  });

  it('maps the UCLH A40 (MRN and NHS number survive; MRN merged)', () => {
    const text = readFileSync(corpusPath('hl7v2', 'emap-uclh', 'Adt__generic__A40.hl7'), 'utf8');
    const e = identity(mapHl7v2(text, itk, ctx));
    expect(e.kind === 'merge' && e.merges).toEqual([
      {
        surviving: { nhsNumber: '9999999999', local: [{ value: '40800001', assigner: 'MRENTR', type: 'MEDREC' }] },
        merged: { local: [{ value: '40800000', assigner: 'MRENTR' }] },
      },
    ]);
  });

  it('maps a synthetic A40 with two patient groups, and an older MRG-4 prior patient id; identifiers already surviving are dropped from the merged side', () => {
    const text = mergeAdt({
      controlId: 'M-1',
      pairs: [
        { surviving: cx({ nhsNumber: '9000000009', mrn: 'RX1000001' }), merged: cx({ nhsNumber: '9000000009', mrn: 'RX1000002' }) },
        { surviving: cx({ mrn: 'RX1000003' }), mrg4: cx({ mrn: 'RX1000004' }) },
      ],
    });
    const e = identity(mapHl7v2(text, itk, ctx));
    expect(e.kind === 'merge' && e.merges).toEqual([
      {
        surviving: { nhsNumber: '9000000009', local: [{ value: 'RX1000001', assigner: 'RX1', type: 'MR' }] },
        merged: { local: [{ value: 'RX1000002', assigner: 'RX1', type: 'MR' }] },
      },
      {
        surviving: { local: [{ value: 'RX1000003', assigner: 'RX1', type: 'MR' }] },
        merged: { local: [{ value: 'RX1000004', assigner: 'RX1', type: 'MR' }] },
      },
    ]);
    expect(isIdentityEvent(e)).toBe(true);
    if (e.kind !== 'merge' || e.merges[0] === undefined) throw new Error('merge expected');
    expect(identityKeys(e.merges[0].surviving, 'northgate-maternity')).toEqual([
      'nhs:9000000009',
      'local:northgate-maternity:RX1:RX1000001',
    ]);
    expect(identifierKinds(e.merges[0].surviving)).toEqual(['nhs-number', 'local:RX1/MR']);
  });

  it('an A40 without MRG is invalid with an error at MRG-1 (HL7 101), and its ACK is an AE whose ERR names MRG-1', () => {
    const text = mergeAdt({ controlId: 'M-2', pairs: [{ surviving: cx({ nhsNumber: '9000000009' }) }] });
    const issues = invalid(mapHl7v2(text, itk, ctx));
    expect(issues).toEqual([
      expect.objectContaining({ severity: 'error', code: '101', location: { segment: 'MRG', sequence: 1, field: 1 } }),
    ]);
    expect(issues[0]?.message).not.toContain('9000000009');

    const feeds = {
      find: () => ({
        id: 'northgate-maternity',
        sendingFacility: 'RX1',
        messageTypes: { ADT: ['A40'] },
        versions: ['2.4'],
        processingIds: ['P'],
        mapping: 'itk-adt',
      }),
    };
    const a = assessHl7v2(text, {
      feeds: feeds as never,
      mapper: (t) => mapHl7v2(t, itk, ctx),
      receivedAt: ctx.receivedAt,
    });
    expect(a).toMatchObject({ status: 'quarantined', ackCode: 'AE' });
    const ack = buildAck(a.envelope, a.ackCode, a.issues, { ackControlId: 'ACK1', now: ctx.receivedAt });
    const err = ack.split('\r').find((s) => s.startsWith('ERR'));
    expect(err).toMatch(/MRG\^1\^1/);
    expect(err).toContain('101');
  });

  it('an MRG naming nothing, or only what PID-3 already has, or an NHS number failing its check digit, is invalid at that field', () => {
    const empty = mergeAdt({ controlId: 'M-3', pairs: [{ surviving: cx({ mrn: 'RX1' }), merged: '' }] });
    expect(invalid(mapHl7v2(empty.replace('MRG|', 'MRG|^^^'), itk, ctx))[0]).toMatchObject({
      code: '101',
      location: { segment: 'MRG', field: 1 },
    });
    const same = mergeAdt({ controlId: 'M-4', pairs: [{ surviving: cx({ mrn: 'RX1000001' }), merged: cx({ mrn: 'RX1000001' }) }] });
    expect(invalid(mapHl7v2(same, itk, ctx))[0]).toMatchObject({ code: '207', location: { segment: 'MRG', field: 1 } });
    const bad = mergeAdt({ controlId: 'M-5', pairs: [{ surviving: cx({ mrn: 'RX1000001' }), merged: cx({ nhsNumber: '9000000008' }) }] });
    const issue = invalid(mapHl7v2(bad, itk, ctx))[0];
    expect(issue).toMatchObject({ code: '102', location: { segment: 'MRG', field: 1, repetition: 1 } });
    expect(issue?.message).toContain('check digit');
    const noPid3 = mergeAdt({ controlId: 'M-6', pairs: [{ surviving: '', merged: cx({ mrn: 'RX1000001' }) }] });
    expect(invalid(mapHl7v2(noPid3, itk, ctx))[0]).toMatchObject({ code: '101', location: { segment: 'PID', field: 3 } });
  });

  it('maps an A24 (two PIDs) to a link and an A37 to an unlink; a single PID is invalid at the second PID', () => {
    const text = linkAdt({
      controlId: 'L-1',
      first: cx({ nhsNumber: '9000000009' }),
      second: cx({ nhsNumber: '9449307946', mrn: 'RX1M' }),
    });
    expect(identity(mapHl7v2(text, itk, ctx))).toEqual({
      kind: 'link',
      first: { nhsNumber: '9000000009', local: [] },
      second: { nhsNumber: '9449307946', local: [{ value: 'RX1M', assigner: 'RX1', type: 'MR' }] },
      source: { feedId: 'northgate-maternity', messageControlId: 'L-1', event: 'ADT^A24' },
    });
    const unlink = linkAdt({
      controlId: 'L-2',
      event: 'A37',
      first: cx({ nhsNumber: '9000000009' }),
      second: cx({ nhsNumber: '9449307946' }),
    });
    expect(identity(mapHl7v2(unlink, itk, ctx)).kind).toBe('unlink');
    const one = linkAdt({ controlId: 'L-3', first: cx({ nhsNumber: '9000000009' }) });
    expect(invalid(mapHl7v2(one, itk, ctx))[0]).toMatchObject({ code: '100', location: { segment: 'PID', sequence: 2 } });
    const same = linkAdt({ controlId: 'L-4', first: cx({ nhsNumber: '9000000009' }), second: cx({ nhsNumber: '9000000009' }) });
    expect(invalid(mapHl7v2(same, itk, ctx))[0]).toMatchObject({ code: '207' });
  });

  it('the Northvale mapping inherits the identity events; A35 (an account merge) is not one', () => {
    const nv = set.get('northvale-trust');
    expect([...nv.identity.events.entries()].sort()).toEqual(
      [
        ['A24', 'link'],
        ['A34', 'merge'],
        ['A36', 'merge'],
        ['A37', 'unlink'],
        ['A39', 'merge'],
        ['A40', 'merge'],
      ].sort(),
    );
    const a35 = mergeAdt({ controlId: 'M-7', event: 'A35', pairs: [{ surviving: cx({ mrn: 'X1' }), merged: cx({ mrn: 'X2' }) }] });
    expect(mapHl7v2(a35, nv, ctx).kind).toBe('not-relevant');
  });
});

describe('identityEvents in mapping files', () => {
  const base = { fields: { 'baby.birth': { path: 'PID-7' } } };
  function load(files: Record<string, unknown>) {
    const dir = mkdtempSync(path.join(tmpdir(), 'stork-identity-'));
    try {
      for (const [name, data] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(data));
      return loadHl7v2Mappings(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('a mapping may read a bare NHS number from PID-2 (assigner NHS assumed) and list its own events', () => {
    const m = load({
      a: {
        ...base,
        identityEvents: {
          mergeEvents: ['A40'],
          linkEvents: [],
          patientIdentifiers: [{ path: 'PID-2', assigner: 'NHS' }, { path: 'PID-3' }],
        },
      },
    }).get('a');
    expect([...m.identity.events.keys()]).toEqual(['A40', 'A37']);
    const text = mergeAdt({ controlId: 'M-8', pairs: [{ surviving: cx({ mrn: 'RX1000001' }), merged: cx({ mrn: 'RX1000002' }) }] }).replace(
      'PID|1||',
      'PID|1|9000000009|',
    );
    const e = identity(mapHl7v2(text, m, ctx));
    expect(e.kind === 'merge' && e.merges[0]?.surviving.nhsNumber).toBe('9000000009');
  });

  it('refuses an event listed twice, or also a birth event, and a path outside its segment, naming the file and field', () => {
    expect(() => load({ a: { ...base, identityEvents: { mergeEvents: ['A40'], linkEvents: ['A40'] } } })).toThrow(
      /identityEvents\/linkEvents/,
    );
    expect(() => load({ a: { ...base, identityEvents: { mergeEvents: ['A28'] } } })).toThrow(ConfigError);
    expect(() => load({ a: { ...base, identityEvents: { priorIdentifiers: [{ path: 'PID-3' }] } } })).toThrow(/priorIdentifiers/);
  });
});
