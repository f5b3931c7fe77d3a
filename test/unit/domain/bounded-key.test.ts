import { createHash } from 'node:crypto';
import { boundedKey, KEY_MAX_BYTES } from '../../../src/domain/bounded-key.js';
import { subjectKey } from '../../../src/pipeline/plan-delivery.js';
import { identityKeys } from '../../../src/domain/identity-event.js';
import type { BirthNotification } from '../../../src/domain/birth-notification.js';
import { pregnancyKey, type AntenatalBooking } from '../../../src/domain/antenatal-notification.js';

describe('boundedKey: keys of a sender’s text that fit a btree index row', () => {
  test('a key up to 512 bytes (UTF-8) is itself; a longer one is the SHA-256 of its text', () => {
    expect(boundedKey('local:feed:RX1:12345')).toBe('local:feed:RX1:12345');
    const edge = 'x'.repeat(KEY_MAX_BYTES);
    expect(boundedKey(edge)).toBe(edge);
    // 256 two-byte characters are 512 bytes; one more is over.
    expect(boundedKey('é'.repeat(256))).toBe('é'.repeat(256));
    const long = `${edge}x`;
    expect(boundedKey(long)).toBe(`sha256:${createHash('sha256').update(long).digest('hex')}`);
    expect(boundedKey('é'.repeat(257))).toMatch(/^sha256:[0-9a-f]{64}$/);
    // Different long keys stay different; equal ones equal.
    expect(boundedKey(`${edge}y`)).not.toBe(boundedKey(long));
    expect(boundedKey(`${edge}x`)).toBe(boundedKey(long));
  });

  test('a subject key from a long local identifier is the same key identityKeys makes for an A40 naming it', () => {
    const value = 'L'.repeat(10_000);
    const n = {
      source: { feedId: 'northvale-adt' },
      baby: { localIdentifiers: [{ value, assigner: 'RX9' }] },
    } as unknown as BirthNotification;
    const key = subjectKey(n, 'message-1');
    expect(key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(identityKeys({ local: [{ value, assigner: 'RX9' }] }, 'northvale-adt')).toEqual([key]);
  });

  test('a pregnancy key from a long pregnancy id is bounded; a short one is as before', () => {
    const booking = (pregnancyId: string): AntenatalBooking =>
      ({
        mother: { nhsNumber: '9991000019', localIdentifiers: [] },
        estimatedDueDate: '2027-04-10',
        pregnancyId,
        source: { feedId: 'maternity', format: 'hl7v2', messageControlId: 'C1', event: 'SIU^S12' },
        confidentiality: 'normal',
      }) as unknown as AntenatalBooking;
    expect(pregnancyKey(booking('P1'))).toBe('nhs:9991000019:maternity:P1');
    const long = pregnancyKey(booking('P'.repeat(10_000)));
    expect(long).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pregnancyKey(booking('P'.repeat(10_000)))).toBe(long);
    expect(pregnancyKey(booking(`${'P'.repeat(9_999)}Q`))).not.toBe(long);
  });
});
