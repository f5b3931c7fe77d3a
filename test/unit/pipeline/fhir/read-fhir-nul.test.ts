import { readFhirResource } from '../../../../src/pipeline/fhir/assess-fhir.js';

/** Regression (found by fuzzing, issue 16): a NUL in a FHIR body is refused at reading, before anything reaches the store. */
describe('readFhirResource refuses a NUL character', () => {
  const refused = (body: string, encoding: 'json' | 'xml') => {
    const read = readFhirResource(Buffer.from(body, 'utf8'), encoding, 1_000_000);
    return read.ok ? undefined : read.issue.diagnostics;
  };
  test.each([
    ['a NUL byte in JSON', '{"resourceType":"Bundle","id":"a\u0000b"}', 'json'],
    ['a \\u0000 escape in JSON', '{"resourceType":"Bundle","id":"a\\u0000b"}', 'json'],
    ['a NUL byte in XML', '<Bundle xmlns="http://hl7.org/fhir"><id value="a\u0000b"/></Bundle>', 'xml'],
    ['a &#0; reference in XML', '<Bundle xmlns="http://hl7.org/fhir"><id value="a&#0;b"/></Bundle>', 'xml'],
    ['a &#x00; reference in XML', '<Bundle xmlns="http://hl7.org/fhir"><id value="a&#x00;b"/></Bundle>', 'xml'],
  ] as const)('%s', (_name, body, encoding) => {
    expect(refused(body, encoding)).toMatch(/NUL character/);
  });
  test('an escaped backslash before u0000 is text, not NUL', () => {
    expect(refused('{"resourceType":"Bundle","id":"a\\\\u0000b"}', 'json')).toBeUndefined();
  });
});
