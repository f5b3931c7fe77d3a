import fs from 'node:fs';
import path from 'node:path';
import { loadEnvConfig } from '../../../src/config/env.js';
import { configFiles, loadHubConfig } from '../../../src/config/hub-config.js';
import { meshMailboxes } from '../../../src/config/mesh-mailboxes.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

type Json = Record<string, unknown>;
const readJson = (file: string): Json => JSON.parse(fs.readFileSync(file, 'utf8')) as Json;
const writeJson = (file: string, data: unknown): void => fs.writeFileSync(file, JSON.stringify(data, null, 2));

const MESH = {
  url: 'https://msg.intspineservices.nhs.uk',
  mailbox: 'X26ABC1',
  passwordEnv: 'NEMS_MESH_PASSWORD',
  sharedKeyEnv: 'MESH_SHARED_KEY',
  workflowIds: ['BIRTHNOTIFICATION_1', 'CHILDHEALTH_BIRTHNOTIFICATION_UPDATE'],
  pollIntervalMs: 60000,
};

/** The sample configuration with `mesh` on its NEMS feed; returns the folder, the feeds file and the feed's index. */
function withMesh(mesh: Json): { dir: string; file: string; i: number } {
  const dir = copySampleConfig('stork-mesh-config-');
  const file = configFiles(dir).feeds;
  const data = readJson(file);
  const feeds = data.feeds as Json[];
  const i = feeds.findIndex((f) => f.kind === 'nems');
  const feed = feeds[i];
  if (!feed) throw new Error('the sample has a NEMS feed');
  feed.mesh = mesh;
  writeJson(file, data);
  return { dir, file, i };
}

describe('MESH mailbox of a NEMS feed (feeds.json `mesh`)', () => {
  it('loads the mailbox, and reads its secrets from the variables it names and its TLS files from the config folder', () => {
    const { dir, file } = withMesh({
      ...MESH,
      maxChunks: 5,
      tls: { certFile: 'tls/client.pem', keyFile: 'tls/client.key', caFile: 'tls/ca.pem' },
    });
    fs.mkdirSync(path.join(dir, 'tls'));
    for (const f of ['client.pem', 'client.key', 'ca.pem']) fs.writeFileSync(path.join(dir, 'tls', f), `PEM of ${f}`);
    const config = loadHubConfig(dir);
    expect(config.feeds.nemsById('nems-births')?.mesh).toMatchObject({ mailbox: 'X26ABC1', pollIntervalMs: 60000 });
    const env = loadEnvConfig({ STORK_CONFIG_DIR: dir, NEMS_MESH_PASSWORD: 'the-password', MESH_SHARED_KEY: 'the-key' });
    const [m, ...others] = meshMailboxes(config.feeds.nemsFeeds, env, file);
    expect(others).toEqual([]);
    expect(m).toMatchObject({
      feedId: 'nems-births',
      mailbox: 'X26ABC1',
      password: 'the-password',
      sharedKey: 'the-key',
      maxChunks: 5,
      requestTimeoutMs: 30000,
      workflowIds: MESH.workflowIds,
    });
    expect(m?.tls?.cert?.toString()).toBe('PEM of client.pem');
    expect(m?.tls?.key?.toString()).toBe('PEM of client.key');
    expect(m?.tls?.ca?.toString()).toBe('PEM of ca.pem');
  });

  it('a feed without a mesh block polls nothing (the sample)', () => {
    const dir = copySampleConfig('stork-mesh-config-');
    const config = loadHubConfig(dir);
    expect(meshMailboxes(config.feeds.nemsFeeds, loadEnvConfig({ STORK_CONFIG_DIR: dir }), configFiles(dir).feeds)).toEqual([]);
  });

  it('a bad mesh block stops start-up naming the file and the field', () => {
    const { dir, file, i } = withMesh({
      ...MESH,
      url: 'ftp://mesh.example',
      mailbox: 'X26 ABC',
      passwordEnv: 'lower-case',
      workflowIds: [],
      pollIntervalMs: 10,
      secret: 'no secrets in files',
    });
    expect(configError(() => loadHubConfig(dir)).problems).toEqual(
      expect.arrayContaining([
        `${file}: field /feeds/${i}/mesh: must NOT have additional properties (secret)`,
        `${file}: field /feeds/${i}/mesh/url: must match pattern "^https?://[^\\s/?#]+(/[^\\s?#]*)?$"`,
        `${file}: field /feeds/${i}/mesh/mailbox: must match pattern "^[A-Za-z0-9]{1,20}$"`,
        `${file}: field /feeds/${i}/mesh/passwordEnv: must match pattern "^[A-Z_][A-Z0-9_]*$"`,
        `${file}: field /feeds/${i}/mesh/workflowIds: must NOT have fewer than 1 items`,
        `${file}: field /feeds/${i}/mesh/pollIntervalMs: must be >= 50`,
      ]),
    );
  });

  it('plain http only on loopback; a certificate needs its key; the shared key is not the password', () => {
    const { dir, file, i } = withMesh({
      ...MESH,
      url: 'http://mesh.example',
      sharedKeyEnv: 'NEMS_MESH_PASSWORD',
      tls: { certFile: 'c.pem' },
    });
    expect(configError(() => loadHubConfig(dir)).problems).toEqual([
      `${file}: field /feeds/${i}/mesh/url: MESH must be reached over https (plain http is allowed for a loopback address only)`,
      `${file}: field /feeds/${i}/mesh/tls: certFile and keyFile go together (the client certificate and its private key)`,
      `${file}: field /feeds/${i}/mesh/sharedKeyEnv: must name a variable other than passwordEnv (the shared key is not the password)`,
    ]);
    expect(loadHubConfig(withMesh({ ...MESH, url: 'http://127.0.0.1:8700' }).dir).feeds.nemsFeeds[0]?.mesh?.url).toBe(
      'http://127.0.0.1:8700',
    );
  });

  it('a secret that is not set, or a TLS file that cannot be read, stops start-up naming the field and the variable, never a value', () => {
    const { dir, file } = withMesh({ ...MESH, tls: { caFile: 'missing-ca.pem' } });
    const config = loadHubConfig(dir);
    const env = loadEnvConfig({ STORK_CONFIG_DIR: dir, NEMS_MESH_PASSWORD: 'do-not-print-me' });
    const err = configError(() => meshMailboxes(config.feeds.nemsFeeds, env, file));
    expect(err.problems).toEqual([
      `${file}: NEMS feed "nems-births" field mesh.sharedKeyEnv: environment variable MESH_SHARED_KEY is not set`,
      `${file}: NEMS feed "nems-births" field mesh.tls.caFile: cannot read missing-ca.pem`,
    ]);
    expect(err.message).not.toContain('do-not-print-me');
  });
});
