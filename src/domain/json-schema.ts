import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { ConfigError } from './config-error.js';

// Under NodeNext the default export of ajv-formats is the module namespace for tsc; at run time it is the function.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

/** One shared ajv instance: schemas compile once at start-up, validation is then cheap. */
export const ajv = addFormats(new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }));

export function compile<T>(schema: JSONSchemaType<T> | object): ValidateFunction<T> {
  return ajv.compile<T>(schema);
}

/** "field `/centres/0/postcodes/2`: must match pattern …" for each ajv error. */
export function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => {
    const where = e.instancePath === '' ? '(top level)' : e.instancePath;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : e.keyword === 'required'
          ? ` (${String((e.params as { missingProperty?: string }).missingProperty)})`
          : '';
    return `field ${where}: ${e.message ?? e.keyword}${extra}`;
  });
}

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
