import { createHmac } from 'node:crypto';
import { meshAuthorization, meshTimestamp } from '../../../adapters/mesh/mesh-auth.js';

describe('the NHSMESH authorisation header', () => {
  const c = { mailbox: 'X26ABC1', password: 'password', sharedKey: 'TestKey' };
  const at = new Date('2026-11-29T08:05:59.999Z');

  it('is NHSMESH mailbox:nonce:count:timestamp:HMAC-SHA256(shared key, mailbox:nonce:count:password:timestamp)', () => {
    const header = meshAuthorization(c, at, '2c001608-5f09-4840-9611-bea43e666a30');
    const expected = createHmac('sha256', 'TestKey')
      .update('X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:0:password:202611290805')
      .digest('hex');
    expect(header).toBe(`NHSMESH X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:0:202611290805:${expected}`);
    expect(header).not.toContain('password');
  });

  it('signs the UTC minute as yyyyMMddHHmm', () => {
    expect(meshTimestamp(at)).toBe('202611290805');
    expect(meshTimestamp(new Date('2027-01-01T00:00:00+01:00'))).toBe('202612312300');
  });

  it('takes a fresh nonce every call, so no two headers are the same', () => {
    const a = meshAuthorization(c, at);
    const b = meshAuthorization(c, at);
    expect(a.split(':')[1]).not.toBe(b.split(':')[1]);
    expect(a).not.toBe(b);
  });

  it('depends on the password and the shared key', () => {
    const nonce = 'n';
    const base = meshAuthorization(c, at, nonce);
    expect(meshAuthorization({ ...c, password: 'other' }, at, nonce)).not.toBe(base);
    expect(meshAuthorization({ ...c, sharedKey: 'other' }, at, nonce)).not.toBe(base);
  });
});
