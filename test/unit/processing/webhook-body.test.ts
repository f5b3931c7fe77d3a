import { createHmac } from 'node:crypto';
import { webhookBody, webhookHeaders, type WebhookTarget } from '../../../src/processing/webhooks.js';
import type { WebhookDelivery, WebhookToSend } from '../../../src/ports/webhooks.js';
import { validateCatchmentsFile } from '../../../src/pipeline/catchments.js';
import { describeErrors } from '../../../src/domain/json-schema.js';

const delivery: WebhookDelivery = {
  id: '7b0e6a43-5d0c-4f43-9a57-2d8f2f7c9a10',
  idempotencyKey: '3f0c1c0e-8a8e-4c0b-9f8e-6a0d3c2b1a00.withdrawn.1795981813787000',
  centreId: 'richmond-hill',
  notificationId: '3f0c1c0e-8a8e-4c0b-9f8e-6a0d3c2b1a00',
  event: 'withdrawn',
  occurredAt: '2026-11-29T19:50:13.787Z',
  status: 'pending',
  attempts: 0,
  replays: 0,
};

const withdrawn: WebhookToSend = {
  delivery,
  item: {
    notificationId: delivery.notificationId,
    inbox: 'richmond-hill',
    status: 'withdrawn',
    deliveredAt: '2026-11-29T18:00:00.000Z',
    withdrawnAt: delivery.occurredAt,
  },
  notificationEventLive: true,
};

const target: WebhookTarget = {
  centreId: 'richmond-hill',
  url: 'https://cms.example/stork',
  secrets: ['a-secret-of-at-least-thirty-two-characters!!'],
  acknowledge: false,
};

describe('webhook body formats (issue 15 item 1: JSON, or a FHIR Bundle)', () => {
  test('json (the default): the event, its key and the inbox item, as application/json', () => {
    const { body, contentType } = webhookBody(withdrawn);
    expect(contentType).toBe('application/json');
    expect(JSON.parse(body)).toEqual({
      id: delivery.idempotencyKey,
      event: 'notification.withdrawn',
      centreId: 'richmond-hill',
      occurredAt: delivery.occurredAt,
      notification: withdrawn.item,
    });
  });

  test('fhir: the FHIR R4 Bundle the centre API gives for the item, as application/fhir+json, signed over those bytes', () => {
    const { body, contentType } = webhookBody(withdrawn, 'fhir');
    expect(contentType).toBe('application/fhir+json');
    const bundle = JSON.parse(body) as {
      resourceType: string;
      type: string;
      entry: { resource: { resourceType: string; issue?: { code: string }[] } }[];
    };
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
    expect(bundle.entry.map((e) => e.resource.resourceType)).toContain('OperationOutcome');
    expect(bundle.entry.find((e) => e.resource.resourceType === 'OperationOutcome')?.resource.issue?.[0]?.code).toBe('deleted');
    const now = new Date('2026-11-29T20:00:00Z');
    const headers = webhookHeaders(target, delivery, body, now, contentType);
    expect(headers['content-type']).toBe('application/fhir+json');
    const t = Math.floor(now.getTime() / 1000);
    const expected = createHmac('sha256', target.secrets[0] ?? '')
      .update(`${t}.${body}`)
      .digest('hex');
    expect(Object.values(headers).join(' ')).toContain(`t=${t},v1=${expected}`);
  });

  test('fhir for an item no longer in the inbox: a Bundle saying it was withdrawn, built from the delivery alone', () => {
    const { body } = webhookBody({ ...withdrawn, item: undefined }, 'fhir');
    expect(body).toContain(delivery.notificationId);
    expect(JSON.parse(body)).toMatchObject({ resourceType: 'Bundle', type: 'collection' });
  });

  test('an antenatal item: always JSON (even for a fhir centre), marked antenatal in the event, the body and the Stork-Event header', () => {
    const d: WebhookDelivery = { ...delivery, kind: 'antenatal', event: 'delivered' };
    const antenatal = {
      antenatalId: d.notificationId,
      kind: 'antenatal' as const,
      inbox: 'richmond-hill',
      status: 'new' as const,
      deliveredAt: d.occurredAt,
      record: { mother: { nhsNumber: '9990000018' }, estimatedDueDate: '2027-05-01' },
    };
    for (const format of ['json', 'fhir'] as const) {
      const { body, contentType } = webhookBody({ delivery: d, antenatal, notificationEventLive: false }, format);
      expect(contentType).toBe('application/json');
      expect(JSON.parse(body)).toEqual({
        id: d.idempotencyKey,
        event: 'antenatal.delivered',
        kind: 'antenatal',
        centreId: 'richmond-hill',
        occurredAt: d.occurredAt,
        antenatal,
      });
    }
    expect(webhookHeaders(target, d, '{}', new Date())['Stork-Event']).toBe('antenatal.delivered');
    // Gone from the centre's items: a withdrawal built from the delivery alone, without content.
    const gone = JSON.parse(webhookBody({ delivery: { ...d, event: 'withdrawn' }, notificationEventLive: true }).body) as unknown;
    expect(gone).toMatchObject({
      event: 'antenatal.withdrawn',
      antenatal: { antenatalId: d.notificationId, kind: 'antenatal', status: 'withdrawn' },
    });
  });

  test('the catchments schema takes format json or fhir, and refuses anything else naming the field', () => {
    const file = (format: string) => ({
      localAuthorities: [
        {
          id: 'la',
          name: 'LA',
          districts: ['LS9'],
          centres: [
            {
              id: 'c',
              name: 'C',
              districts: ['LS9'],
              sectors: [],
              postcodes: [],
              delivery: { mode: 'webhook', url: 'https://cms.example/stork', secrets: [{ env: 'STORK_WEBHOOK_SECRET_C' }], format },
            },
          ],
        },
      ],
    });
    expect(validateCatchmentsFile(file('fhir'))).toBe(true);
    expect(validateCatchmentsFile(file('xml'))).toBe(false);
    expect(describeErrors(validateCatchmentsFile.errors).join('\n')).toMatch(/delivery\/format/);
  });
});
