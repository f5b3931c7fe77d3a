import { auditBundle, NHS_NUMBER_SYSTEM, toFhirAuditEvent } from '../../../../adapters/http/routes/audit-fhir.js';
import { readEventQuery } from '../../../../adapters/http/routes/audit.js';
import { decodeAuditCursor, encodeAuditCursor, readInstant } from '../../../../adapters/http/routes/paging.js';
import { AUDIT_ACTIONS, type AuditEvent } from '../../../../src/ports/audit.js';
import { auditBundleProblems, auditEventProblems } from '../../../support/fhir-audit-event.js';

const NHS = '9434765919';
const event = (over: Partial<AuditEvent> = {}): AuditEvent => ({
  seq: 42,
  at: new Date('2026-11-18T09:00:00.123Z'),
  actor: 'system:worker',
  action: 'delivered',
  messageId: '11111111-1111-4111-8111-111111111111',
  notificationId: '22222222-2222-4222-8222-222222222222',
  subjectNhsNumber: NHS,
  recipient: 'osmondthorpe',
  ruleId: 'offer-of-support',
  rulebookVersion: 'offer-of-support@1.2.0#sha256:abc',
  lawfulBasis: 'UK GDPR Art 6(1)(e)',
  details: { dataset: 'offer-of-support' },
  ...over,
});

describe('The audit as FHIR R4 AuditEvent (after IHE BALP)', () => {
  test.each(AUDIT_ACTIONS)('a %s event is a structurally valid R4 AuditEvent', (action) => {
    expect(auditEventProblems(toFhirAuditEvent(event({ action })))).toEqual([]);
    const bare = toFhirAuditEvent({ seq: 1, at: new Date(), actor: 'client:x', action, details: {} });
    expect(auditEventProblems(bare)).toEqual([]);
  });

  test('a disclosure: DICOM Export, created, the centre as information recipient, the baby by NHS number, the rule and lawful basis', () => {
    const r = toFhirAuditEvent(event()) as Record<string, unknown> & { agent: unknown[]; entity: unknown[] };
    expect(r.type).toEqual({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106', display: 'Export' });
    expect(r.action).toBe('C');
    expect(r.outcome).toBe('0');
    expect(r.recorded).toBe('2026-11-18T09:00:00.123Z');
    expect(r.agent[1]).toMatchObject({ who: { identifier: { value: 'osmondthorpe' } }, requestor: false });
    expect(r.entity).toContainEqual({
      what: { identifier: { system: NHS_NUMBER_SYSTEM, value: NHS } },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
    expect(JSON.stringify(r.entity)).toContain('UK GDPR Art 6(1)(e)');
    expect(r.source).toMatchObject({ observer: { display: 'Stork birth-notification hub' } });
  });

  test('a centre worker’s read: rest/read, R, the person as requestor with role and purpose', () => {
    const r = toFhirAuditEvent(
      event({ action: 'read', actor: 'user:abc', details: { name: 'Ann Worker', role: 'centre-worker', purpose: 'care' } }),
    ) as { type: unknown; subtype: unknown[]; action: string; agent: Record<string, unknown>[]; purposeOfEvent: unknown };
    expect(r.type).toMatchObject({ code: 'rest' });
    expect(r.subtype[0]).toMatchObject({ system: 'http://hl7.org/fhir/restful-interaction', code: 'read' });
    expect(r.action).toBe('R');
    expect(r.agent[0]).toMatchObject({
      requestor: true,
      who: { display: 'Ann Worker' },
      role: [{ coding: [{ code: 'centre-worker' }] }],
      purposeOfUse: [{ coding: [{ code: 'COC' }], text: 'care' }],
    });
    expect(r.purposeOfEvent).toEqual([{ coding: [expect.objectContaining({ code: 'COC' })], text: 'care' }]);
  });

  test('an audit query: rest/search-type, Execute, a Query entity; a rejection is a minor failure (4), an AR ACK serious (8)', () => {
    const q = toFhirAuditEvent(event({ action: 'read', actor: 'client:ig', details: { query: 'audit-events', role: 'ig' } })) as {
      subtype: { code: string }[];
      action: string;
      entity: { role?: { code: string }; query?: string }[];
    };
    expect(q.subtype[0]?.code).toBe('search-type');
    expect(q.action).toBe('E');
    expect(q.entity.find((e) => e.role?.code === '24')?.query).toBeDefined();
    expect((toFhirAuditEvent(event({ action: 'rejected', outcome: 'quarantined' })) as { outcome: string }).outcome).toBe('4');
    expect((toFhirAuditEvent(event({ action: 'acked', outcome: 'AR' })) as { outcome: string }).outcome).toBe('8');
  });

  test('the validator can fail: no agent, an outcome outside 0/4/8/12, a name and a query, an unknown element, a bad instant', () => {
    const good = toFhirAuditEvent(event());
    expect(auditEventProblems({ ...good, agent: [] })).toContainEqual(expect.stringContaining('AuditEvent.agent'));
    expect(auditEventProblems({ ...good, agent: undefined })).toContainEqual('AuditEvent.agent: is required (min 1)');
    expect(auditEventProblems({ ...good, outcome: '2' })).toContainEqual(expect.stringContaining('AuditEvent.outcome'));
    expect(auditEventProblems({ ...good, entity: [{ name: 'x', query: 'eA==' }] })).toContainEqual(expect.stringContaining('sev-1'));
    expect(auditEventProblems({ ...good, colour: 'red' })).toContainEqual(expect.stringContaining('colour'));
    expect(auditEventProblems({ ...good, recorded: '2026-11-18' })).toContainEqual(expect.stringContaining('instant'));
    expect(auditEventProblems({ ...good, source: { site: 'stork' } })).toContainEqual('AuditEvent.source.observer: is required (min 1)');
    expect(auditEventProblems({ ...good, agent: [{ who: { display: 'x' } }] })).toContainEqual(
      'AuditEvent.agent[0].requestor: is required (min 1)',
    );
  });

  test('a page is a valid searchset Bundle with self and next links', () => {
    const b = auditBundle(
      [event(), event({ seq: 43 })],
      { self: 'http://h/v1/audit/events', next: 'http://h/v1/audit/events?cursor=x' },
      'http://h/v1',
    );
    expect(auditBundleProblems(b)).toEqual([]);
    expect((b.link as { relation: string }[]).map((l) => l.relation)).toEqual(['self', 'next']);
    expect(auditBundleProblems({ ...b, type: 'collection' })).toContainEqual(expect.stringContaining('Bundle.type'));
    expect(auditBundleProblems({ ...b, entry: [...(b.entry as unknown[]), (b.entry as unknown[])[0]] })).toContainEqual(
      expect.stringContaining('bdl-7'),
    );
  });
});

describe('GET /v1/audit/events: its query', () => {
  test('every filter read', () => {
    const r = readEventQuery({
      subject: '943 476 5919',
      centre: 'osmondthorpe',
      feed: 'leeds-maternity',
      rule: 'offer-of-support',
      action: 'delivered',
      from: '2026-11-01',
      to: '2026-11-30',
      limit: '20',
      _format: 'fhir',
    });
    expect(r).toEqual({
      fhir: true,
      search: {
        subject: NHS,
        centre: 'osmondthorpe',
        feed: 'leeds-maternity',
        rule: 'offer-of-support',
        action: 'delivered',
        from: new Date('2026-11-01T00:00:00Z'),
        before: new Date('2026-12-01T00:00:00Z'),
        limit: 20,
      },
    });
  });

  test('every bad value is named', () => {
    const r = readEventQuery({
      subject: '9434765918',
      centre: 'a b',
      feed: '',
      rule: 'x'.repeat(65),
      action: 'eaten',
      from: '2026-02-30',
      to: 'yesterday',
      cursor: 'nope',
      limit: '0',
      _format: 'xml',
      cetnre: 'typo',
    });
    expect('problems' in r ? r.problems.map((p) => p.field).sort() : []).toEqual(
      ['_format', 'action', 'centre', 'cetnre', 'cursor', 'feed', 'from', 'limit', 'rule', 'subject', 'to'].sort(),
    );
    const order = readEventQuery({ from: '2026-11-02T00:00:00Z', to: '2026-11-01T00:00:00Z' });
    expect('problems' in order && order.problems).toEqual([{ field: 'to', message: 'must be after from' }]);
  });

  test('the cursor is opaque and only one Stork made is accepted', () => {
    const c = encodeAuditCursor(123456);
    expect(c).not.toContain('123456');
    expect(decodeAuditCursor(c)).toBe(123456);
    expect(decodeAuditCursor(Buffer.from('audit:-1').toString('base64url'))).toBeUndefined();
    expect(decodeAuditCursor(Buffer.from('audit:99999999999999999').toString('base64url'))).toBeUndefined();
    expect(decodeAuditCursor(c + '=')).toBeUndefined();
    expect(readEventQuery({ cursor: c })).toMatchObject({ search: { afterSeq: 123456 } });
  });

  test('instants: dates (UTC days) and date-times with an offset; nothing else', () => {
    expect(readInstant('2026-11-18')).toEqual(new Date('2026-11-18T00:00:00Z'));
    expect(readInstant('2026-11-18', true)).toEqual(new Date('2026-11-19T00:00:00Z'));
    expect(readInstant('2026-11-18T09:30:00+01:00')).toEqual(new Date('2026-11-18T08:30:00Z'));
    for (const bad of ['2026-11-18T09:30:00', '2026-13-01', '2026-02-29', '18/11/2026', '2026-11-18T25:00:00Z'])
      expect(readInstant(bad)).toBeUndefined();
  });
});
