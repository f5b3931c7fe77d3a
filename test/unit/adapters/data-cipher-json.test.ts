import { randomBytes } from 'node:crypto';
import { CLEAR_INDEX_KEY_ID, DataCipher, envelopeKeyId, isEnvelope, NO_DATA_KEYS } from '../../../adapters/store/data-cipher.js';
import { identifierTexts, motherIndexRows, probeText } from '../../../adapters/store/sealed-columns.js';
import { dataKeyId, type DataKey } from '../../../src/config/data-keys.js';
import type { BirthNotification } from '../../../src/domain/birth-notification.js';

const key = (): DataKey => {
  const k = randomBytes(32);
  return { keyId: dataKeyId(k), key: k, file: 'k' };
};
const cipherOf = (...keys: DataKey[]): DataCipher =>
  new DataCipher({ current: keys[0], byId: new Map(keys.map((k) => [k.keyId, k])), demo: false });
const place = { table: 'families', column: 'lead', row: 'f-1' };
const lead = { name: { family: 'QUENBY', given: ['ROSALIND'] }, birthDate: '1988-02-29', phone: '07700900777' };

describe('DataCipher: JSON values in envelopes (migration 029)', () => {
  test('a value is sealed under the current key, with its id, and opens only at its place', () => {
    const k1 = key();
    const c = cipherOf(k1);
    const sealed = c.sealJson(lead, place);
    expect(isEnvelope(sealed)).toBe(true);
    expect(envelopeKeyId(sealed)).toBe(k1.keyId);
    expect(envelopeKeyId(JSON.stringify(sealed))).toBe(k1.keyId);
    expect(JSON.stringify(sealed)).not.toContain('QUENBY');
    expect(c.openJson(sealed, place)).toEqual(lead);
    expect(c.openJson(JSON.stringify(sealed), place)).toEqual(lead);
    expect(() => c.openJson(sealed, { ...place, row: 'f-2' })).toThrow('families.lead of f-2 fails authentication under data key');
    expect(() => c.openJson(sealed, { ...place, column: 'address' })).toThrow(/fails authentication/);
    expect(() => cipherOf(key()).openJson(sealed, place)).toThrow(`encrypted under data key ${k1.keyId}, which is not among`);
  });

  test('without a key values stay in clear; null stays null; values in clear open as they are', () => {
    expect(NO_DATA_KEYS.sealJson(lead, place)).toBe(lead);
    expect(NO_DATA_KEYS.sealJson(null, place)).toBeNull();
    expect(cipherOf(key()).sealJson(undefined, place)).toBeNull();
    expect(cipherOf(key()).openJson(lead, place)).toEqual(lead);
    expect(cipherOf(key()).openJson(null, place)).toBeNull();
    expect(isEnvelope({ enc: 1, kid: 'x', v: 'y', extra: true })).toBe(false);
    expect(envelopeKeyId(lead)).toBeNull();
  });

  test('blind indexes: keyed under the current key, looked up under every key and the clear one', () => {
    const k1 = key();
    const k2 = key();
    const text = probeText({ value: 'MUMRN1', assigner: 'RX1' });
    const under1 = cipherOf(k1).blindIndex(text);
    expect(under1.keyId).toBe(k1.keyId);
    const clear = NO_DATA_KEYS.blindIndex(text);
    expect(clear.keyId).toBe(CLEAR_INDEX_KEY_ID);
    expect(under1.hash).not.toBe(clear.hash);
    const both = cipherOf(k2, k1).blindIndexes(text);
    expect(both).toEqual(expect.arrayContaining([under1.hash, clear.hash, cipherOf(k2).blindIndex(text).hash]));
    expect(identifierTexts({ value: 'MUMRN1', assigner: 'RX1' })).toContain(text);
    expect(identifierTexts({ value: 'MUMRN1' })).toEqual([probeText({ value: 'MUMRN1' })]);
    const record = { mother: { localIdentifiers: [{ value: 'MUMRN1', assigner: 'RX1' }] } } as unknown as BirthNotification;
    expect(motherIndexRows(cipherOf(k1), [{ notificationId: 'n-1', record }]).map((r) => r.key_id)).toEqual([k1.keyId, k1.keyId]);
    expect(motherIndexRows(cipherOf(k1), [{ notificationId: 'n-1', record: undefined }])).toEqual([]);
  });
});
