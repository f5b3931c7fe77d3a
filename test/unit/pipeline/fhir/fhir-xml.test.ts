import { readdirSync, readFileSync } from 'node:fs';
import { corpusPath } from '../../../support/corpus.js';
import { MAX_XML_DEPTH, parseFhirXml, type JsonObject, type JsonValue } from '../../../../src/pipeline/fhir/fhir-xml.js';
import { toFhirXml } from '../../../../src/pipeline/fhir/fhir-response.js';

const MB = 1024 * 1024;
const xml = (s: string) => Buffer.from(s, 'utf8');

describe('FHIR XML parser: safety', () => {
  it('refuses a DOCTYPE (billion laughs) before parsing', () => {
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>' +
      '<Patient xmlns="http://hl7.org/fhir"><id value="&lol3;"/></Patient>';
    const r = parseFhirXml(xml(laughs), MB);
    expect(r).toMatchObject({ ok: false, issue: { code: 'security', severity: 'fatal' } });
  });

  it('refuses an external entity (XXE) and a lower-case doctype', () => {
    const xxe = '<!doctype p [<!ENTITY x SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><id value="&x;"/></Patient>';
    expect(parseFhirXml(xml(xxe), MB).ok).toBe(false);
    expect(parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><!ENTITY a "b"></Patient>'), MB)).toMatchObject({ ok: false });
  });

  it('decodes the five XML entities and character references in one pass, and refuses any other entity', () => {
    const r = parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><id value="a&amp;b&#233;&#x41;&amp;#233;"/></Patient>'), MB);
    expect(r).toEqual({ ok: true, resource: { resourceType: 'Patient', id: 'a&béA&#233;' } });
    expect(parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><id value="a&unknown;"/></Patient>'), MB)).toMatchObject({
      ok: false,
      issue: { code: 'structure' },
    });
    expect(
      parseFhirXml(
        xml(
          '<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">&nbsp;</div></text></Patient>',
        ),
        MB,
      ),
    ).toMatchObject({ ok: false });
  });

  it('refuses XML that is not well-formed: mismatched or unclosed tags, two roots, text outside the root', () => {
    for (const bad of [
      '<Patient xmlns="http://hl7.org/fhir"><name></Patient>',
      '<Patient xmlns="http://hl7.org/fhir"><id value="a"/>',
      '<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>',
      'junk<Patient xmlns="http://hl7.org/fhir"/>',
      '<Patient xmlns="http://hl7.org/fhir"><!-- unclosed </Patient>',
      '<Patient xmlns="http://hl7.org/fhir"><id value="a/></Patient>',
    ])
      expect([bad, parseFhirXml(xml(bad), MB)]).toEqual([
        bad,
        { ok: false, issue: expect.objectContaining({ code: 'structure' }) as unknown },
      ]);
    // A > inside a quoted attribute value is fine.
    expect(parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><id value="a"/><gender value="x>y"/></Patient>'), MB)).toMatchObject({
      ok: true,
      resource: { gender: 'x>y' },
    });
  });

  it('refuses nesting deeper than the cap, and a very deep document without recursing', () => {
    const deep = (n: number) =>
      '<Patient xmlns="http://hl7.org/fhir">' + '<extension url="x">'.repeat(n) + '</extension>'.repeat(n) + '</Patient>';
    expect(parseFhirXml(xml(deep(MAX_XML_DEPTH + 5)), MB)).toMatchObject({ ok: false, issue: { code: 'too-costly' } });
    expect(parseFhirXml(xml(deep(200_000)), 64 * MB)).toMatchObject({ ok: false, issue: { code: 'too-costly' } });
    // Just under the cap is fine (an extension with neither value nor children is then reported, not a crash).
    expect(parseFhirXml(xml(deep(10)), MB).ok).toBe(true);
  });

  it('refuses a body over the size cap', () => {
    const body = xml(`<Patient xmlns="http://hl7.org/fhir"><id value="${'a'.repeat(2000)}"/></Patient>`);
    expect(parseFhirXml(body, 1000)).toMatchObject({ ok: false, issue: { code: 'too-costly' } });
    expect(parseFhirXml(body, 4000).ok).toBe(true);
  });

  it('refuses XML that is not well-formed, not FHIR, or has unknown elements, naming the element', () => {
    expect(parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><id value="a"></Patient>'), MB)).toMatchObject({
      ok: false,
      issue: { code: 'structure' },
    });
    expect(parseFhirXml(xml('<Patient><id value="a"/></Patient>'), MB)).toMatchObject({ ok: false, issue: { code: 'structure' } });
    expect(parseFhirXml(xml('<Nonsense xmlns="http://hl7.org/fhir"/>'), MB)).toMatchObject({ ok: false, issue: { code: 'not-supported' } });
    expect(
      parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><name><given value="A"/><nickname value="B"/></name></Patient>'), MB),
    ).toMatchObject({ ok: false, issue: { code: 'structure', expression: 'Patient.name[0].nickname' } });
    expect(parseFhirXml(xml('<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>'), MB)).toMatchObject({
      ok: false,
      issue: { code: 'value', expression: 'Patient.active' },
    });
  });
});

describe('FHIR XML parser: fidelity', () => {
  it('types primitives, makes arrays where the path repeats, keeps _x and the narrative', () => {
    const r = parseFhirXml(
      xml(
        '<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><p>A &amp; <b>B</b></p></div></text>' +
          '<active value="true"/><name><given value="A"/><given value="B"><extension url="u"><valueString value="x"/></extension></given></name>' +
          '<birthDate value="2026-11-01"><extension url="http://hl7.org/fhir/StructureDefinition/patient-birthTime"><valueDateTime value="2026-11-01T10:00:00Z"/></extension></birthDate>' +
          '<multipleBirthInteger value="2"/></Patient>',
      ),
      MB,
    );
    expect(r).toEqual({
      ok: true,
      resource: {
        resourceType: 'Patient',
        text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>A &amp; <b>B</b></p></div>' },
        active: true,
        name: [{ given: ['A', 'B'], _given: [null, { extension: [{ url: 'u', valueString: 'x' }] }] }],
        birthDate: '2026-11-01',
        _birthDate: {
          extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime', valueDateTime: '2026-11-01T10:00:00Z' }],
        },
        multipleBirthInteger: 2,
      },
    });
  });

  const dir = corpusPath('fhir', 'ukcore-r4');
  const files = readdirSync(dir).filter((f) => f.endsWith('.xml'));

  it('reads every UK Core R4 XML example in the corpus, keeping every value', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) {
      const text = readFileSync(`${dir}/${f}`, 'utf8');
      const r = parseFhirXml(Buffer.from(text), 10 * MB);
      if (!r.ok) throw new Error(`${f}: ${JSON.stringify(r.issue)}`);
      expect({ f, values: xmlValues(text) }).toEqual({ f, values: jsonValues(r.resource) });
      expect(r.resource.resourceType).toBe(/<([A-Za-z]+)\s+xmlns=["']http:\/\/hl7.org\/fhir["']/.exec(text)?.[1]);
    }
  });

  it('gives the same JSON as the corpus JSON rendering of the same resource (where both exist)', () => {
    const fromXml = parseFhirXml(readFileSync(`${dir}/UKCore-RelatedPerson-JoySmith-Example.xml`), MB);
    const json = JSON.parse(
      readFileSync(corpusPath('fhir', 'ukcore-r4-json', 'PDSAPI__UKCore-RelatedPerson-JoySmith-Example.json'), 'utf8'),
    ) as JsonObject;
    if (!fromXml.ok) throw new Error('not parsed');
    for (const key of ['resourceType', 'id', 'patient', 'relationship', 'name'])
      expect([key, fromXml.resource[key]]).toEqual([key, json[key]]);
  });
});

describe('FHIR XML parser: round trip of the corpus R4 JSON', () => {
  it("JSON → XML (Stork's writer) → JSON (the parser) gives back each UK Core and PDS R4 JSON example, or names its non-FHIR element", () => {
    const refused: string[] = [];
    let roundTrips = 0;
    for (const folder of ['ukcore-r4-json', 'pds-r4-patient']) {
      const dir = corpusPath('fhir', folder);
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
        const json = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8')) as JsonObject;
        const back = parseFhirXml(Buffer.from(toFhirXml(json)), 10 * MB);
        if (!back.ok) {
          refused.push(`${f}: ${back.issue.code} at ${back.issue.expression ?? '?'}`);
          continue;
        }
        // Some corpus examples give a single value where FHIR has a list (e.g. HumanName.prefix): the parser
        // makes the list, as FHIR JSON requires; nothing else may differ.
        expect({ f, back: back.resource }).toEqual({ f, back: listsAsParsed(json, back.resource) });
        roundTrips++;
      }
    }
    // An example that is not valid FHIR R4 is refused, naming the element: the parser does not guess.
    expect(refused).toEqual(EXPECTED_REFUSALS);
    expect(roundTrips).toBeGreaterThanOrEqual(25);
  });
});

/** RelatedPerson has no generalPractitioner in FHIR R4 (the PDS example carries one). */
const EXPECTED_REFUSALS = ['PDSAPI__RelatedPerson-example.json: structure at RelatedPerson.generalPractitioner'];

/** `original` with each single value wrapped in a list where `parsed` has a list there. */
function listsAsParsed(original: JsonValue, parsed: JsonValue): JsonValue {
  if (Array.isArray(parsed) && !Array.isArray(original)) return listsAsParsed([original], parsed);
  if (Array.isArray(original)) return original.map((x, i) => listsAsParsed(x, Array.isArray(parsed) ? (parsed[i] ?? null) : null));
  if (original !== null && typeof original === 'object') {
    const p = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    return Object.fromEntries(Object.entries(original).map(([k, v]) => [k, listsAsParsed(v, p[k] ?? null)]));
  }
  return original;
}

const norm = (s: string) => (/^-?\d+(\.\d+)?$/.test(s) ? String(Number(s)) : s);

/** Every value, id and url attribute of the XML (outside the XHTML narrative), decoded, sorted. */
function xmlValues(text: string): string[] {
  const noDiv = text.replace(/<div[\s\S]*?<\/div>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  const out: string[] = [];
  for (const m of noDiv.matchAll(/\s(value|id|url)=(?:"([^"]*)"|'([^']*)')/g)) {
    const v = (m[2] ?? m[3] ?? '')
      .replaceAll('&lt;', '<')
      .replaceAll('&gt;', '>')
      .replaceAll('&quot;', '"')
      .replaceAll('&apos;', "'")
      .replace(/&#(\d+);/g, (_s, d: string) => String.fromCodePoint(Number(d)))
      .replace(/&#x([0-9a-f]+);/gi, (_s, h: string) => String.fromCodePoint(parseInt(h, 16)))
      .replaceAll('&amp;', '&');
    out.push(norm(v));
  }
  return out.sort();
}

/** Every primitive of the JSON except resourceType and the narrative, sorted. */
function jsonValues(v: JsonValue, key = ''): string[] {
  if (v === null) return [];
  if (Array.isArray(v)) return v.flatMap((x) => jsonValues(x, key)).sort();
  if (typeof v === 'object')
    return Object.entries(v)
      .flatMap(([k, x]) => (k === 'resourceType' || k === 'div' ? [] : jsonValues(x, k)))
      .sort();
  return [norm(String(v))];
}
