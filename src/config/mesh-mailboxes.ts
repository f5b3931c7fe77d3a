import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import type { MeshMailboxConfig, NemsFeedConfig } from '../pipeline/fhir/fhir-feed.js';
import type { EnvConfig } from './env.js';

/** The workflows of national birth notifications: new births, and updates to them. */
export const NEMS_WORKFLOW_IDS = ['BIRTHNOTIFICATION_1', 'CHILDHEALTH_BIRTHNOTIFICATION_UPDATE'] as const;
export const DEFAULT_MESH_MAX_CHUNKS = 20;
export const DEFAULT_MESH_REQUEST_TIMEOUT_MS = 30000;

/** A NEMS feed's MESH mailbox with its secrets and certificates read: what the hub builds its client and poller from. */
export interface MeshMailboxSettings {
  feedId: string;
  url: string;
  mailbox: string;
  password: string;
  sharedKey: string;
  workflowIds: string[];
  pollIntervalMs: number;
  maxChunks: number;
  requestTimeoutMs: number;
  tls?: { cert?: Buffer; key?: Buffer; ca?: Buffer };
}

/**
 * Reads what feeds.json names for each NEMS feed's MESH mailbox: the password and shared key from the environment
 * variables it names, the TLS files (relative to the configuration directory). Every problem is listed at once,
 * naming the file and the field; the secrets' values appear nowhere.
 */
export function meshMailboxes(nemsFeeds: readonly NemsFeedConfig[], env: EnvConfig, feedsFile: string): MeshMailboxSettings[] {
  const problems: string[] = [];
  const settings: MeshMailboxSettings[] = [];
  for (const feed of nemsFeeds) {
    const mesh = feed.mesh;
    if (!mesh) continue;
    const at = (field: string) => `${feedsFile}: NEMS feed "${feed.id}" field mesh.${field}`;
    const secret = (field: 'passwordEnv' | 'sharedKeyEnv'): string => {
      const value = env.secret(mesh[field]);
      if (value === undefined) problems.push(`${at(field)}: environment variable ${mesh[field]} is not set`);
      return value ?? '';
    };
    const password = secret('passwordEnv');
    const sharedKey = secret('sharedKeyEnv');
    const tls = readTls(mesh, env.configDir, at, problems);
    settings.push({
      feedId: feed.id,
      url: mesh.url,
      mailbox: mesh.mailbox,
      password,
      sharedKey,
      workflowIds: mesh.workflowIds,
      pollIntervalMs: mesh.pollIntervalMs,
      maxChunks: mesh.maxChunks ?? DEFAULT_MESH_MAX_CHUNKS,
      requestTimeoutMs: mesh.requestTimeoutMs ?? DEFAULT_MESH_REQUEST_TIMEOUT_MS,
      ...(tls ? { tls } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigError(`Invalid MESH configuration:\n  ${problems.join('\n  ')}`, problems);
  return settings;
}

function readTls(
  mesh: MeshMailboxConfig,
  configDir: string,
  at: (field: string) => string,
  problems: string[],
): MeshMailboxSettings['tls'] | undefined {
  if (!mesh.tls) return undefined;
  if (new URL(mesh.url).protocol !== 'https:') {
    problems.push(`${at('tls')}: client certificates need an https url`);
    return undefined;
  }
  const out: NonNullable<MeshMailboxSettings['tls']> = {};
  for (const [field, key] of [
    ['certFile', 'cert'],
    ['keyFile', 'key'],
    ['caFile', 'ca'],
  ] as const) {
    const file = mesh.tls[field];
    if (file === undefined) continue;
    try {
      out[key] = readFileSync(path.resolve(configDir, file));
    } catch {
      problems.push(`${at(`tls.${field}`)}: cannot read ${file}`);
    }
  }
  return out;
}
