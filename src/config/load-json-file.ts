import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import { ConfigError } from '../domain/config-error.js';
import { describeErrors } from '../domain/json-schema.js';

/**
 * Reads a JSON configuration file and validates it. A missing file, bad JSON or a schema violation
 * throws a ConfigError naming the file and every offending field, so start-up stops with a clear message.
 */
export function loadJsonFile<T>(file: string, validate: ValidateFunction<T>): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (!validate(data)) {
    const problems = describeErrors(validate.errors).map((p) => `${file}: ${p}`);
    throw new ConfigError(problems.join('\n'), problems);
  }
  return data;
}
