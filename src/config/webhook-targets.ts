import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { webhookOf, type Catchments } from '../pipeline/catchments.js';
import type { WebhookTarget } from '../processing/webhooks.js';

/** A secret shorter than this is refused: an HMAC key should be about as long as the hash. */
export const MIN_SECRET_LENGTH = 32;

/**
 * The webhook of every centre whose delivery is `webhook` or `both`, with its secrets read (files relative to the
 * configuration folder, or environment variables) and its CA file read. A secret or CA that cannot be read stops
 * start-up naming the centre and the field (never the secret). `demo` lists the centres signing with a sample
 * `*.DEMO-ONLY*` secret, for a warning.
 */
export function loadWebhookTargets(
  catchments: Catchments,
  configDir: string,
  secret: (variable: string) => string | undefined,
  source = 'mappings/catchments.json',
): { targets: Map<string, WebhookTarget>; demo: string[] } {
  const problems: string[] = [];
  const targets = new Map<string, WebhookTarget>();
  const demo: string[] = [];
  for (const [id, centre] of catchments.centres) {
    const hook = webhookOf(centre.delivery);
    if (hook === undefined) continue;
    const where = `${source}: centre "${id}" delivery`;
    const secrets: string[] = [];
    hook.secrets.forEach((ref, i) => {
      let value: string | undefined;
      if ('file' in ref) {
        const file = path.resolve(configDir, ref.file);
        try {
          value = readFileSync(file, 'utf8').trim();
        } catch {
          problems.push(`${where}/secrets/${i}/file: ${ref.file} cannot be read`);
          return;
        }
        if (path.basename(file).includes('DEMO-ONLY')) demo.push(id);
      } else {
        value = secret(ref.env)?.trim();
        if (value === undefined) {
          problems.push(`${where}/secrets/${i}/env: ${ref.env} is not set`);
          return;
        }
      }
      if (value.length < MIN_SECRET_LENGTH)
        problems.push(`${where}/secrets/${i}: the secret is shorter than ${MIN_SECRET_LENGTH} characters`);
      else secrets.push(value);
    });
    let ca: string | undefined;
    if (hook.caFile !== undefined) {
      try {
        ca = readFileSync(path.resolve(configDir, hook.caFile), 'utf8');
      } catch {
        problems.push(`${where}/caFile: ${hook.caFile} cannot be read`);
      }
      if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----'))
        problems.push(`${where}/caFile: ${hook.caFile} holds no PEM certificate`);
    }
    targets.set(id, {
      centreId: id,
      url: hook.url,
      secrets,
      ...(ca !== undefined ? { ca } : {}),
      ...(hook.timeoutMs !== undefined ? { timeoutMs: hook.timeoutMs } : {}),
      acknowledge: hook.mode === 'webhook',
      ...(hook.format !== undefined ? { format: hook.format } : {}),
    });
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  return { targets, demo: [...new Set(demo)] };
}
