import { resendKey } from '../../../src/intake/resend-key.js';

describe('resendKey: the key belongs to the sender that is authenticated', () => {
  const names = ['RX9', 'PAS'];

  test('a verified sender keeps the format stored before the rule (MSH-4|MSH-3), whatever the channel', () => {
    expect(resendKey({ names, verified: true, apiClientId: 'northvale-feed' })).toBe('RX9|PAS');
    expect(resendKey({ names, verified: true, remoteAddress: '10.0.0.1' })).toBe('RX9|PAS');
  });

  test('an unverified message is keyed by the API client, else the MLLP peer, else not at all', () => {
    expect(resendKey({ names, verified: false, apiClientId: 'northgate-feed', remoteAddress: '10.0.0.1' })).toBe(
      '|client:northgate-feed|RX9|PAS',
    );
    expect(resendKey({ names, verified: false, remoteAddress: '10.0.0.1' })).toBe('|address:10.0.0.1|RX9|PAS');
    expect(resendKey({ names, verified: false })).toBeUndefined();
  });

  test('the two key spaces never meet: a verified key that would look like an unverified one gets no key', () => {
    expect(resendKey({ names: ['', 'PAS'], verified: true })).toBeUndefined();
    expect(resendKey({ names: ['|client:northgate-feed', 'RX9|PAS'], verified: true })).toBeUndefined();
    expect(resendKey({ names: [], verified: true })).toBeUndefined();
    for (const verifiedNames of [
      ['RX9', 'PAS'],
      ['client:northgate-feed', 'RX9|PAS'],
      ['RX9', ''],
    ]) {
      const verified = resendKey({ names: verifiedNames, verified: true });
      expect(verified?.startsWith('|')).toBe(false);
    }
  });

  test('FHIR keys live in their own |fhir| space: per verified feed, else per authenticated client, never an HL7 v2 key', () => {
    expect(resendKey({ names: ['northgate-fhir'], verified: true, apiClientId: 'northgate-fhir-feed', space: 'fhir' })).toBe(
      '|fhir|feed:northgate-fhir',
    );
    expect(resendKey({ names: ['https://x.example/fhir'], verified: false, apiClientId: 'northvale-feed', space: 'fhir' })).toBe(
      '|fhir|client:northvale-feed|https://x.example/fhir',
    );
    expect(resendKey({ names: ['https://x.example/fhir'], verified: false, space: 'fhir' })).toBeUndefined();
    expect(resendKey({ names: [], verified: true, space: 'fhir' })).toBeUndefined();
    // No HL7 v2 key, verified or not, can start like a FHIR one.
    for (const hl7 of [
      resendKey({ names: ['|fhir|feed:northgate-fhir'], verified: true }),
      resendKey({ names: ['fhir|feed:northgate-fhir'], verified: false, apiClientId: 'x' }),
      resendKey({ names: ['fhir'], verified: false, remoteAddress: '10.0.0.1' }),
    ])
      expect(hl7?.startsWith('|fhir|') ?? false).toBe(false);
  });

  test('MESH keys live in their own |mesh| space, per verified feed only; no HL7 v2 or FHIR key starts like one', () => {
    expect(resendKey({ names: ['nems-births'], verified: true, space: 'mesh' })).toBe('|mesh|feed:nems-births');
    expect(resendKey({ names: ['nems-births'], verified: false, apiClientId: 'x', space: 'mesh' })).toBeUndefined();
    expect(resendKey({ names: [], verified: true, space: 'mesh' })).toBeUndefined();
    for (const other of [
      resendKey({ names: ['|mesh|feed:nems-births'], verified: true }),
      resendKey({ names: ['mesh|feed:nems-births'], verified: false, apiClientId: 'x' }),
      resendKey({ names: ['mesh|feed:nems-births'], verified: false, remoteAddress: '10.0.0.1' }),
      resendKey({ names: ['nems-births'], verified: true, space: 'fhir' }),
      resendKey({ names: ['mesh|feed:nems-births'], verified: false, apiClientId: 'x', space: 'fhir' }),
    ])
      expect(other?.startsWith('|mesh|') ?? false).toBe(false);
  });
});
