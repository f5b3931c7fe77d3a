import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCatchments } from '../../../src/config/catchments.js';
import { loadWebhookTargets } from '../../../src/config/webhook-targets.js';
import { repoRoot } from '../../../src/config/env.js';
import { configError } from '../../support/sample-config.js';

const SAMPLE = loadCatchments(path.join(repoRoot, 'mappings', 'catchments.json'));
const LONG = 'x'.repeat(40);

/** The sample catchments with Belle Isle's webhook replaced. */
function withBelleIsle(delivery: unknown): ReturnType<typeof loadCatchments> {
  const centres = new Map(SAMPLE.centres);
  const belle = centres.get('belle-isle');
  if (!belle) throw new Error('no belle-isle in the sample');
  centres.set('belle-isle', { ...belle, delivery: delivery as typeof belle.delivery });
  return { ...SAMPLE, centres };
}

describe('webhook targets (secrets and CA by reference)', () => {
  it('the sample starts: both webhook centres sign with the DEMO-ONLY secret file, flagged for a warning', () => {
    const { targets, demo } = loadWebhookTargets(SAMPLE, repoRoot, () => undefined);
    expect([...targets.keys()].sort()).toEqual(['belle-isle', 'richmond-hill']);
    expect(demo.sort()).toEqual(['belle-isle', 'richmond-hill']);
    expect(targets.get('richmond-hill')).toMatchObject({
      acknowledge: false,
      secrets: [expect.stringMatching(/^demo-webhook-secret/) as unknown],
    });
    expect(targets.get('belle-isle')?.acknowledge).toBe(true);
  });

  it('reads secrets newest first from the environment and files, and a CA file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-hooks-'));
    writeFileSync(path.join(dir, 'old.txt'), `${'o'.repeat(40)}\n`);
    mkdirSync(path.join(dir, 'mappings'));
    writeFileSync(path.join(dir, 'mappings', 'webhook-secret.DEMO-ONLY.txt'), LONG);
    writeFileSync(path.join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const c = withBelleIsle({
      mode: 'both',
      url: 'https://x.example/',
      secrets: [{ env: 'STORK_WEBHOOK_SECRET_B' }, { file: 'old.txt' }],
      caFile: 'ca.pem',
    });
    const t = loadWebhookTargets(c, dir, (v) => (v === 'STORK_WEBHOOK_SECRET_B' ? LONG : undefined)).targets.get('belle-isle');
    expect(t?.secrets).toEqual([LONG, 'o'.repeat(40)]);
    expect(t?.ca).toContain('BEGIN CERTIFICATE');
  });

  it('an unset variable, an unreadable file, a short secret or a CA that is not PEM stop start-up naming centre and field, never the secret', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stork-hooks-'));
    writeFileSync(path.join(dir, 'short.txt'), 'too-short-secret');
    writeFileSync(path.join(dir, 'ca.pem'), 'not a certificate');
    const c = withBelleIsle({
      mode: 'webhook',
      url: 'https://x.example/',
      secrets: [{ env: 'STORK_WEBHOOK_SECRET_UNSET' }, { file: 'short.txt' }],
      caFile: 'ca.pem',
    });
    const err = configError(() => loadWebhookTargets(c, dir, () => undefined));
    expect(err.problems).toEqual([
      'mappings/catchments.json: centre "richmond-hill" delivery/secrets/0/file: mappings/webhook-secret.DEMO-ONLY.txt cannot be read',
      'mappings/catchments.json: centre "belle-isle" delivery/secrets/0/env: STORK_WEBHOOK_SECRET_UNSET is not set',
      'mappings/catchments.json: centre "belle-isle" delivery/secrets/1: the secret is shorter than 32 characters',
      'mappings/catchments.json: centre "belle-isle" delivery/caFile: ca.pem holds no PEM certificate',
    ]);
    expect(err.message).not.toContain('too-short-secret');
  });
});
