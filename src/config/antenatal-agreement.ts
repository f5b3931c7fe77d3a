import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import {
  buildAntenatalAgreement,
  validateAntenatalAgreementFile,
  type AntenatalAgreement,
} from '../pipeline/antenatal/antenatal-agreement.js';
import { loadJsonFile } from './load-json-file.js';

/** Where a configuration folder keeps its antenatal agreement (issue 17): its own folder, apart from the birth agreements. */
export const antenatalAgreementDir = (configDir: string): string => path.join(configDir, 'consent-rules', 'antenatal');

/**
 * Loads the antenatal agreement: the one `*.json` file of `consent-rules/antenatal/`. No folder: undefined (the hub
 * takes no antenatal bookings; a booking feed's messages are quarantined for an operator). More than one file, a
 * schema violation, an unknown condition or an unsafe rule stops start-up naming the file and field.
 */
export function loadAntenatalAgreement(configDir: string): AntenatalAgreement | undefined {
  const dir = antenatalAgreementDir(configDir);
  if (!existsSync(dir)) return undefined;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length !== 1) throw new ConfigError(`${dir}: must hold exactly one antenatal agreement (*.json), found ${files.length}`);
  const file = path.join(dir, files[0] ?? '');
  return buildAntenatalAgreement(loadJsonFile(file, validateAntenatalAgreementFile), file);
}
