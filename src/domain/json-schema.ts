/** JSON Schema validation (ajv), shared by the domain's record schema and the configuration files. Pure: no I/O. */
import { Ajv, type ErrorObject, type JSONSchemaType, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

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
  // An `if` error only says that a then/else branch failed; that branch's own errors name the fields.
  return (errors ?? [])
    .filter((e) => e.keyword !== 'if')
    .map((e) => {
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
