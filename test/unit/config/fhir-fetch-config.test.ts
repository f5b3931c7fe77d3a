import fs from 'node:fs';
import { configFiles, loadHubConfig } from '../../../src/config/hub-config.js';
import { loadEnvConfig } from '../../../src/config/env.js';
import { FETCH_DEFAULTS } from '../../../src/config/feeds.js';
import { configError, copySampleConfig } from '../../support/sample-config.js';

type Json = Record<string, unknown>;

/** Where the sample's FHIR feed is in feeds.json (problems name it by its index). */
function fhirFeedIndex(dir: string): number {
  const data = JSON.parse(fs.readFileSync(configFiles(dir).feeds, 'utf8')) as { feeds: Json[] };
  return data.feeds.findIndex((f) => f.kind === 'fhir');
}

function withFetch(fetch: unknown): string {
  const dir = copySampleConfig('stork-fetch-config-');
  const file = configFiles(dir).feeds;
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as { feeds: Json[] };
  const feed = data.feeds.find((f) => f.kind === 'fhir');
  if (!feed) throw new Error('no FHIR feed in the sample');
  feed.fetch = fetch;
  fs.writeFileSync(file, JSON.stringify(data));
  return dir;
}

describe('A FHIR feed’s fetch block (event, then fetch; polling)', () => {
  it('fills in the defaults of every limit left out', () => {
    const config = loadHubConfig(withFetch({ baseUrl: 'https://fhir.northgate.example/R4', poll: { intervalMs: 60000, since: 'P28D' } }));
    const { pageSize, ...limits } = FETCH_DEFAULTS;
    expect(config.feeds.fhirFeeds[0]?.fetch).toEqual({
      baseUrl: 'https://fhir.northgate.example/R4',
      ...limits,
      poll: { intervalMs: 60000, since: 'P28D', pageSize },
    });
  });

  it('a bad block stops start-up naming the field; a token is never written in the file', () => {
    const dir = withFetch({
      baseUrl: 'ftp://x',
      token: 'secret',
      tokenEnv: 'NORTHGATE_TOKEN',
      ratePerSecond: 0,
      poll: { intervalMs: 10, since: 'yesterday' },
    });
    const problems = configError(() => loadHubConfig(dir)).problems.join('\n');
    const at = `/feeds/${fhirFeedIndex(dir)}`;
    for (const field of ['/fetch/baseUrl', '/fetch/tokenEnv', '/fetch/ratePerSecond', '/fetch/poll/intervalMs', '/fetch/poll/since'])
      expect(problems).toContain(`field ${at}${field}`);
    expect(problems).toMatch(/must NOT have additional properties \(token\)/);
  });

  it('bearer tokens come from STORK_FHIR_TOKEN_* variables, which are not unknown settings', () => {
    const env = loadEnvConfig({ STORK_FHIR_TOKEN_NORTHGATE: 's3cret', STORK_FHIR_TOKEN_EMPTY: '' });
    expect(env.secret('STORK_FHIR_TOKEN_NORTHGATE')).toBe('s3cret');
    expect(env.secret('STORK_FHIR_TOKEN_EMPTY')).toBeUndefined();
    expect(env.eventFetchIntervalMs).toBe(1000);
    expect(env.eventFetchMaxAttempts).toBe(10);
  });
});
