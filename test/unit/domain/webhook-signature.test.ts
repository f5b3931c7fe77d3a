import {
  backoffCeiling,
  backoffDelay,
  pastHorizon,
  signatureHeader,
  signPayload,
  verifySignature,
} from '../../../src/domain/webhook-signature.js';

const NOW = new Date('2026-01-01T00:00:00Z');
const T = Math.floor(NOW.getTime() / 1000);
const BODY = '{"event":"notification.delivered","id":"k"}';

describe('webhook signatures', () => {
  it('signs timestamp.body with HMAC-SHA256 (a known vector) and verifies with the same secret', () => {
    // echo -n '1767225600.{"a":1}' | openssl dgst -sha256 -hmac secret
    expect(signPayload('secret', 1767225600, '{"a":1}')).toBe('96a067a1c95eb143fc00b9097bcfcbcd5456adda508c443ff219748e764dbed7');
    const header = signatureHeader(['s1'], T, BODY);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifySignature(header, BODY, ['s1'], NOW)).toEqual({ ok: true, timestamp: T });
  });

  it('refuses a changed body, another secret, a stale or future timestamp, and malformed headers', () => {
    const header = signatureHeader(['s1'], T, BODY);
    expect(verifySignature(header, BODY.replace('k', 'j'), ['s1'], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(header, BODY, ['other'], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifySignature(header, BODY, ['s1'], new Date(NOW.getTime() + 301_000))).toEqual({ ok: false, reason: 'stale' });
    expect(verifySignature(header, BODY, ['s1'], new Date(NOW.getTime() - 301_000))).toEqual({ ok: false, reason: 'stale' });
    for (const bad of [undefined, '', 't=abc,v1=00', `v1=${'0'.repeat(64)}`, `t=${T}`, `t=${T},v1=${'z'.repeat(64)}`, 'x'.repeat(3000)])
      expect(verifySignature(bad, BODY, ['s1'], NOW).ok).toBe(false);
  });

  it('rotation: the header carries one signature per secret, newest first; a receiver with either secret verifies', () => {
    const header = signatureHeader(['new', 'old'], T, BODY);
    expect(header.split(',').filter((p) => p.startsWith('v1='))).toHaveLength(2);
    expect(header.split(',')[1]).toBe(`v1=${signPayload('new', T, BODY)}`);
    expect(verifySignature(header, BODY, ['old'], NOW).ok).toBe(true);
    expect(verifySignature(header, BODY, ['new'], NOW).ok).toBe(true);
    expect(verifySignature(header, BODY, ['neither'], NOW).ok).toBe(false);
  });
});

describe('backoff with jitter', () => {
  const b = { baseMs: 100, maxMs: 5000 };
  it('doubles each retry up to the cap, each wait between half the ceiling and the ceiling', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoffCeiling(a, b))).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000]);
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = backoffCeiling(attempt, b);
      expect(backoffDelay(attempt, b, () => 0)).toBe(ceiling / 2);
      expect(backoffDelay(attempt, b, () => 1)).toBe(ceiling);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt, b);
        expect(d).toBeGreaterThanOrEqual(ceiling / 2);
        expect(d).toBeLessThanOrEqual(ceiling);
      }
    }
    // The jitter spreads: 200 draws of the 5th retry are not all one value.
    expect(new Set(Array.from({ length: 200 }, () => backoffDelay(5, b))).size).toBeGreaterThan(20);
  });

  it('a delivery becomes a dead letter once its next retry would start past the horizon from its first try', () => {
    const first = new Date(0);
    expect(pastHorizon(first, new Date(500), 3, b, 1000)).toBe(false); // 500 + 400 <= 1000
    expect(pastHorizon(first, new Date(700), 3, b, 1000)).toBe(true); // 700 + 400 > 1000
  });
});
