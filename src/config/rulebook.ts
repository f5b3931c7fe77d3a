import { readdirSync } from 'node:fs';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/config-error.js';
import { buildAgreements, singleAgreement, validateAgreementsFile, type Agreements } from '../pipeline/consent/agreements.js';
import { buildRulebook, validateRulebookFile, type Rulebook } from '../pipeline/consent/rulebook.js';
import { loadJsonFile } from './load-json-file.js';

/**
 * Reads and validates a consent rulebook. Throws ConfigError naming the file and field for schema
 * violations, unknown condition or dataset names, and any breach of the safety rules.
 */
export function loadRulebook(file: string): Rulebook {
  return buildRulebook(loadJsonFile(file, validateRulebookFile), file);
}

/** The agreement files of a folder: every `*.json` but the case files (`*.cases.json`), sorted. */
export function agreementFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.cases.json'))
    .sort()
    .map((f) => path.join(dir, f));
}

/**
 * Loads every agreement in `rulesDir` and the choice of agreement per local authority (`agreementsFile`). Without
 * an agreements file, a folder holding exactly one agreement uses it everywhere; with more, the file is required.
 * Every problem of every file is reported together, each naming its file and field.
 */
export function loadAgreements(rulesDir: string, agreementsFile: string, localAuthorityIds: ReadonlySet<string>): Agreements {
  const problems: string[] = [];
  const loaded: { rulebook: Rulebook; source: string }[] = [];
  let files: string[];
  try {
    files = agreementFiles(rulesDir);
  } catch (err) {
    throw new ConfigError(`${rulesDir}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  for (const file of files) {
    try {
      loaded.push({ rulebook: loadRulebook(file), source: file });
    } catch (err) {
      if (err instanceof ConfigError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join('\n'), problems);
  const [only] = loaded;
  if (only === undefined) throw new ConfigError(`${rulesDir}: holds no agreement (consent rulebook) file`);
  if (!existsSync(agreementsFile)) {
    if (loaded.length === 1) return singleAgreement(only.rulebook);
    throw new ConfigError(
      `${agreementsFile}: cannot be read (ENOENT); it is required when ${rulesDir} holds more than one agreement (it names the one each local authority uses)`,
    );
  }
  return buildAgreements(loadJsonFile(agreementsFile, validateAgreementsFile), loaded, localAuthorityIds, agreementsFile);
}
