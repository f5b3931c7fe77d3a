import { createHash } from 'node:crypto';
import net from 'node:net';
import { CR, FS, frame, MllpFramer, VT, type FrameEvent } from '../../adapters/mllp/mllp-framer.js';
import { asJson, asXml, fhirBirthBundle, NORTHGATE_FHIR_ENDPOINT, NORTHGATE_FHIR_KEY } from '../support/synthetic/fhir-birth.js';
import { genuineNewborn } from '../support/hostile-mllp.js';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { api, startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { plainRaw } from '../support/data-keys.js';
import { FUZZ_COUNT, FUZZ_SEED, fhirSeeds, fuzzInput, hl7v2Seeds, inParallel, MUTATIONS, Prng, withControlId } from '../support/fuzz.js';

/**
 * Issue 16 item 5, fuzzing: mutated corpus messages (a fixed seed and count; STORK_FUZZ_COUNT and STORK_FUZZ_SEED
 * for a larger run) through the MLLP framer, HL7 v2 intake and FHIR intake. Nothing throws or hangs, every input is
 * answered (an ACK with ERR unless AA, an OperationOutcome, or a clean close), and every message received is stored
 * with exactly the bytes that came.
 */

const MAX_BYTES = 1_048_576;
/** One input's answer must come within this long, however hostile it is. */
const PER_INPUT_MS = 10_000;
/** A test's own time limit, for the larger runs (STORK_FUZZ_COUNT): the default minute, and 100 ms an input. */
const LIMIT_MS = 60_000 + FUZZ_COUNT * 100;

/** The ACK's MSA-1 and whether it carries an ERR segment, read with the ACK's own field separator. */
function readAck(ack: string): { code: string; err: boolean } {
  const sep = ack.startsWith('MSH') ? (ack[3] ?? '|') : '|';
  const segments = ack.split('\r');
  const msa = segments.find((s) => s.startsWith('MSA'))?.split(sep) ?? [];
  return { code: msa[1] ?? '', err: segments.some((s) => s.startsWith('ERR')) };
}

/** An ACK Stork may send: AA, or AE/AR (CE/CR in enhanced mode) with at least one ERR saying why. */
function ackProblem(ack: string): string | undefined {
  const { code, err } = readAck(ack);
  if (!['AA', 'AE', 'AR', 'CA', 'CE', 'CR'].includes(code)) return `MSA-1 is ${JSON.stringify(code)}`;
  if (code !== 'AA' && code !== 'CA' && !err) return `${code} without ERR`;
  return undefined;
}

/** Rows of the message store by id: raw bytes and whether they were cut. */
async function storedRows(t: TestHub, ids: readonly string[]): Promise<Map<string, { raw: Buffer; truncated: boolean }>> {
  const rows = await t.database.db.query<{ id: string; raw: Uint8Array | null; key_id: string | null; raw_truncated: boolean }>(
    'SELECT m.id, b.raw, b.key_id, m.raw_truncated FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.id = ANY($1::uuid[])',
    [ids],
  );
  // Bodies are encrypted at rest (the test hub's demo data key): compare the decrypted bytes.
  return new Map(rows.rows.map((r) => [r.id, { raw: plainRaw(r.id, r), truncated: r.raw_truncated }]));
}

/** Which input ids answered as a re-send of an earlier one (the same id twice): their own bytes are not stored again. */
function checkStored(
  answers: readonly { id: string; bytes: Buffer; name: string }[],
  rows: Map<string, { raw: Buffer; truncated: boolean }>,
): string[] {
  const seen = new Map<string, number>();
  for (const a of answers) seen.set(a.id, (seen.get(a.id) ?? 0) + 1);
  const problems: string[] = [];
  for (const a of answers) {
    if ((seen.get(a.id) ?? 0) > 1) continue;
    const row = rows.get(a.id);
    if (!row) problems.push(`${a.name}: no row ${a.id}`);
    else if (row.truncated || !row.raw.equals(a.bytes)) problems.push(`${a.name}: row ${a.id} holds other bytes`);
  }
  return problems;
}

describe(`Fuzzing (seed ${FUZZ_SEED}, ${FUZZ_COUNT} inputs a target)`, () => {
  const hl7 = hl7v2Seeds();
  const genuine = [
    genuineNewborn('FZ-G1', 1),
    genuineNewborn('FZ-G2', 2),
    newbornAdt({ seed: 3, controlId: 'FZ-G3', messageTime: new Date() }),
  ].map((m) => Buffer.from(m, 'utf8'));
  /** Messages from a configured feed, as many as the corpus's: half the inputs get past the sender check into mapping. */
  const deep = Array.from({ length: hl7.length }, (_, i) => genuine[i % genuine.length] ?? Buffer.alloc(0));

  test(
    `the MLLP framer: ${FUZZ_COUNT} mutated streams in random chunks; no throw, bounded work, exact bytes, and it recovers`,
    () => {
      const r = new Prng(FUZZ_SEED);
      const seeds = [...hl7, ...genuine];
      const max = 64 * 1024;
      let slowest = 0;
      let messages = 0;
      for (let n = 0; n < FUZZ_COUNT; n++) {
        const input = fuzzInput(seeds, r);
        const stream = r.next() < 0.8 ? frame(input.bytes) : input.bytes; // sometimes unframed
        const framer = new MllpFramer(max);
        const events: FrameEvent[] = [];
        const started = performance.now();
        for (let at = 0; at < stream.length;) {
          const size = r.pick([1, 2, 3, 7, 64, 1500, 65_536, stream.length]);
          events.push(...framer.push(stream.subarray(at, at + size)));
          at += size;
          expect(framer.bufferedBytes).toBeLessThanOrEqual(max);
        }
        slowest = Math.max(slowest, performance.now() - started);
        for (const e of events) {
          const bytes = e.kind === 'message' ? e.bytes : e.head;
          expect({ input: input.name, size: bytes.length <= max }).toEqual({ input: input.name, size: true });
        }
        // A message without frame bytes of its own, framed, comes out exactly as it went in (or cut to its head).
        const clean = !input.bytes.includes(VT) && !input.bytes.includes(FS) && stream !== input.bytes;
        if (clean) {
          expect({ input: input.name, events: events.length }).toEqual({ input: input.name, events: 1 });
          const [only] = events;
          if (only?.kind === 'message') expect(only.bytes.equals(input.bytes)).toBe(true);
          else expect(only?.sizeBytes).toBe(input.bytes.length);
        }
        messages += events.length;
        // Whatever came before, the next well-formed frame is read whole.
        const after = framer.push(Buffer.concat([Buffer.from([FS, CR]), frame('MSH|^~\\&|SENTINEL')]));
        const last = after[after.length - 1];
        expect(last?.kind === 'message' ? last.bytes.toString('latin1') : undefined).toBe('MSH|^~\\&|SENTINEL');
      }
      expect(messages).toBeGreaterThan(FUZZ_COUNT / 2);
      expect(slowest).toBeLessThan(1000);
    },
    LIMIT_MS,
  );

  describe('through a running hub', () => {
    let t: TestHub;
    beforeAll(async () => {
      t = await startTestHub({
        env: {
          STORK_ROLES: 'intake',
          STORK_HTTP_RATE_PER_SECOND: '1000000',
          STORK_HTTP_RATE_BURST: '1000000',
          STORK_API_CLIENT_CONCURRENCY: '64',
        },
      });
    });
    afterAll(async () => t.stop());

    /** Error-level log lines of the test running: an intake bug met on the way (a throw caught and logged) counts as a failure. */
    let logged = 0;
    beforeEach(() => {
      logged = t.sink.lines.length;
    });
    const errorLines = () =>
      t.sink
        .records()
        .slice(logged)
        .filter((l) => typeof l.level === 'number' && l.level >= 50);

    test('regression: a NUL byte in a message does not fail the group commit of the messages stored with it', async () => {
      const poisoned = Buffer.from(genuineNewborn('FZ-NUL\u00001', 7), 'utf8');
      const innocent = Buffer.from(genuineNewborn('FZ-NUL-OTHER', 8), 'utf8');
      const answers = await Promise.all(
        [poisoned, innocent].map(async (bytes) => {
          const res = await api(t.http, 'demo-admin-key', '/v1/hl7v2', {
            method: 'POST',
            headers: { 'content-type': 'x-application/hl7-v2+er7' },
            body: new Uint8Array(bytes),
          });
          return {
            status: res.status,
            code: readAck(await res.text()).code,
            id: res.headers.get('x-stork-message-id') ?? '',
            bytes,
            name: '',
          };
        }),
      );
      expect(answers.map((a) => [a.status, a.code])).toEqual([
        [200, 'AA'],
        [200, 'AA'],
      ]);
      expect(
        checkStored(
          answers,
          await storedRows(
            t,
            answers.map((a) => a.id),
          ),
        ),
      ).toEqual([]);
      expect(errorLines()).toEqual([]);
    });

    test('regression: a NUL in a FHIR message (byte, JSON escape, XML reference) is refused with an OperationOutcome and stored', async () => {
      const bundle = (id: string) =>
        fhirBirthBundle({
          bundleId: id,
          sourceEndpoint: NORTHGATE_FHIR_ENDPOINT,
          timestamp: new Date().toISOString(),
          birthDate: new Date().toISOString().slice(0, 10),
        });
      const bodies: [string, 'json' | 'xml'][] = [
        [asJson(bundle('fz-nul-a\u0000')), 'json'],
        [asXml(bundle('fz-nul-b\u0000')), 'xml'],
        [asXml(bundle('fz-nul-c')).replace('fz-nul-c', 'fz-nul-c&#0;'), 'xml'],
        [asJson(bundle('fz-nul-ok')), 'json'],
      ];
      const answers = await Promise.all(
        bodies.map(async ([body, encoding]) => {
          const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
            method: 'POST',
            headers: { 'content-type': `application/fhir+${encoding}` },
            body,
          });
          return {
            status: res.status,
            text: await res.text(),
            id: res.headers.get('x-stork-message-id') ?? '',
            bytes: Buffer.from(body),
            name: body.slice(0, 40),
          };
        }),
      );
      expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 200]);
      for (const a of answers.slice(0, 3)) expect(a.text).toContain('NUL character');
      expect(
        checkStored(
          answers,
          await storedRows(
            t,
            answers.map((a) => a.id),
          ),
        ),
      ).toEqual([]);
      expect(errorLines()).toEqual([]);
    });

    test(
      `HL7 v2 over HTTP: ${FUZZ_COUNT} mutated messages, each answered with an ACK (ERR unless AA) and stored byte for byte`,
      async () => {
        const r = new Prng(FUZZ_SEED + 1);
        const seeds = [...hl7, ...deep];
        const inputs = Array.from({ length: FUZZ_COUNT }, (_, i) => {
          const input = fuzzInput(
            seeds.map((s) => withControlId(s, `FZH${FUZZ_SEED}-${i}`)),
            r,
          );
          return { ...input, name: `#${i} ${input.name}` };
        });
        const answers: { id: string; bytes: Buffer; name: string }[] = [];
        const problems: string[] = [];
        const counts: Record<string, number> = {};
        let slowest = 0;
        await inParallel(inputs, 8, async (input) => {
          const started = performance.now();
          const res = await api(t.http, 'demo-admin-key', '/v1/hl7v2', {
            method: 'POST',
            headers: { 'content-type': 'x-application/hl7-v2+er7' },
            body: new Uint8Array(input.bytes),
            signal: AbortSignal.timeout(PER_INPUT_MS),
          }).catch((err: unknown) => {
            // A body over the limit is refused (413) before it is all sent: the client may see the close first.
            if (input.bytes.length > MAX_BYTES) return undefined;
            throw err;
          });
          if (res === undefined) {
            counts['413 (closed while sending)'] = (counts['413 (closed while sending)'] ?? 0) + 1;
            return;
          }
          const body = await res.text();
          slowest = Math.max(slowest, performance.now() - started);
          const id = res.headers.get('x-stork-message-id');
          if (res.status === 200 && id !== null) {
            const bad = body === '' ? undefined : ackProblem(body);
            if (bad) problems.push(`${input.name}: ${bad}`);
            answers.push({ id, bytes: input.bytes, name: input.name });
            const key = body === '' ? 'no ACK asked' : readAck(body).code;
            counts[key] = (counts[key] ?? 0) + 1;
          } else if (res.status === 400 && input.bytes.length === 0) counts.empty = (counts.empty ?? 0) + 1;
          else if (res.status === 413 && input.bytes.length > MAX_BYTES) counts['413'] = (counts['413'] ?? 0) + 1;
          else problems.push(`${input.name}: HTTP ${res.status} ${body.slice(0, 200)}`);
        });
        expect(errorLines()).toEqual([]);
        expect(problems).toEqual([]);
        expect(
          checkStored(
            answers,
            await storedRows(
              t,
              answers.map((a) => a.id),
            ),
          ),
        ).toEqual([]);
        expect(errorLines()).toEqual([]);
        expect(slowest).toBeLessThan(PER_INPUT_MS);
        console.log(
          `fuzz hl7v2/http seed ${FUZZ_SEED}: ${FUZZ_COUNT} inputs, answers ${JSON.stringify(counts)}, slowest ${Math.round(slowest)} ms`,
        );
      },
      LIMIT_MS,
    );

    test(
      `FHIR over HTTP: ${FUZZ_COUNT} mutated messages, each answered with a Bundle or an OperationOutcome and stored byte for byte`,
      async () => {
        const r = new Prng(FUZZ_SEED + 2);
        const synthetic = [1, 2, 3].flatMap((k) => {
          const bundle = fhirBirthBundle({
            bundleId: `fz-bundle-${k}`,
            headerId: `fz-header-${k}`,
            sourceEndpoint: NORTHGATE_FHIR_ENDPOINT,
            timestamp: new Date().toISOString(),
            birthDate: new Date().toISOString().slice(0, 10),
            babyNhsNumber: '9434765919',
            postcode: 'LS9 7AB',
          });
          return [
            { bytes: Buffer.from(asJson(bundle)), encoding: 'json' as const },
            { bytes: Buffer.from(asXml(bundle)), encoding: 'xml' as const },
          ];
        });
        const corpus = fhirSeeds();
        const seeds = [
          ...corpus,
          ...Array.from({ length: corpus.length }, (_, i) => synthetic[i % synthetic.length] ?? synthetic[0]),
        ].filter((x) => x !== undefined);
        const answers: { id: string; bytes: Buffer; name: string }[] = [];
        const problems: string[] = [];
        const counts: Record<string, number> = {};
        let slowest = 0;
        const inputs = Array.from({ length: FUZZ_COUNT }, (_, i) => {
          const seed = r.pick(seeds);
          const input = fuzzInput([seed.bytes], r, MUTATIONS);
          return { ...input, encoding: seed.encoding, name: `#${i} ${seed.encoding} ${input.name}` };
        });
        await inParallel(inputs, 8, async (input) => {
          const started = performance.now();
          const res = await api(t.http, NORTHGATE_FHIR_KEY, '/v1/fhir/$process-message', {
            method: 'POST',
            headers: { 'content-type': `application/fhir+${input.encoding}` },
            body: new Uint8Array(input.bytes),
            signal: AbortSignal.timeout(PER_INPUT_MS),
          });
          const body = await res.text();
          slowest = Math.max(slowest, performance.now() - started);
          const kind = /"resourceType"\s*:\s*"(Bundle|OperationOutcome)"|<(Bundle|OperationOutcome)[\s>]/.exec(body);
          const resource = kind?.[1] ?? kind?.[2];
          const expected = res.status === 200 ? 'Bundle' : 'OperationOutcome';
          if (res.status >= 500 || resource !== expected) problems.push(`${input.name}: HTTP ${res.status} ${body.slice(0, 200)}`);
          counts[res.status] = (counts[res.status] ?? 0) + 1;
          const id = res.headers.get('x-stork-message-id');
          if (id !== null) answers.push({ id, bytes: input.bytes, name: input.name });
          else if (input.bytes.length > 0 && input.bytes.length <= MAX_BYTES)
            problems.push(`${input.name}: HTTP ${res.status} but not stored`);
        });
        expect(errorLines()).toEqual([]);
        expect(problems).toEqual([]);
        expect(
          checkStored(
            answers,
            await storedRows(
              t,
              answers.map((a) => a.id),
            ),
          ),
        ).toEqual([]);
        expect(errorLines()).toEqual([]);
        console.log(
          `fuzz fhir/http seed ${FUZZ_SEED}: ${FUZZ_COUNT} inputs, statuses ${JSON.stringify(counts)}, slowest ${Math.round(slowest)} ms`,
        );
      },
      LIMIT_MS,
    );

    test(
      'HL7 v2 over an MLLP socket: a sample of mutated frames, each ACKed (or, without an ACK asked, stored) with its exact bytes',
      async () => {
        const count = Math.max(20, Math.min(200, Math.floor(FUZZ_COUNT / 10)));
        const r = new Prng(FUZZ_SEED + 3);
        const seeds = [...hl7, ...deep];
        const kinds = MUTATIONS.filter((k) => k !== 'frame-bytes'); // frame bytes are the framer's test: here every frame is whole
        let socket = await connect(t.mllpPort);
        const problems: string[] = [];
        const counts: Record<string, number> = {};
        for (let i = 0; i < count; i++) {
          const input = fuzzInput(
            seeds.map((s) => withControlId(s, `FZM${FUZZ_SEED}-${i}`)),
            r,
            kinds,
          );
          const bytes = Buffer.from(input.bytes.map((b) => (b === VT || b === FS ? 0x58 : b)));
          const answer = await exchange(socket, frame(bytes));
          if (answer === 'closed') {
            counts.closed = (counts.closed ?? 0) + 1;
            socket = await connect(t.mllpPort);
          } else if (answer !== undefined) {
            const bad = ackProblem(answer);
            if (bad) problems.push(`#${i} ${input.name}: ${bad}`);
            const code = readAck(answer).code;
            counts[code] = (counts[code] ?? 0) + 1;
          } else counts['no ACK asked'] = (counts['no ACK asked'] ?? 0) + 1;
          // Stored byte for byte (a frame over the limit: its head, marked as cut).
          await pollUntil(async () => {
            // Bodies are encrypted at rest: find the rows by the bytes' hash, then compare their decrypted bytes.
            const found = await t.database.db.query<{ id: string; raw: Uint8Array | null; key_id: string | null }>(
              'SELECT m.id, b.raw, b.key_id FROM messages m JOIN message_bodies b ON b.message_id = m.id WHERE m.sha256 = $1 AND NOT m.raw_truncated',
              [createHash('sha256').update(bytes).digest('hex')],
            );
            return found.rows.some((row) => plainRaw(row.id, row).equals(bytes)) ? true : undefined;
          }, `#${i} ${input.name} stored with its exact bytes`);
        }
        socket.destroy();
        expect(problems).toEqual([]);
        expect(errorLines()).toEqual([]);
        console.log(`fuzz hl7v2/mllp seed ${FUZZ_SEED}: ${count} frames, answers ${JSON.stringify(counts)}`);
      },
      LIMIT_MS,
    );
  });
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends one frame and waits for one ACK frame: its text, `undefined` when none came in 1.5 s (a message that asked
 * for no ACK), or 'closed' when the hub closed the connection.
 */
function exchange(socket: net.Socket, bytes: Buffer): Promise<string | undefined> {
  return new Promise((resolve) => {
    const framer = new MllpFramer(MAX_BYTES);
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve(v);
    };
    const onData = (chunk: Buffer): void => {
      const [first] = framer.push(chunk);
      if (first?.kind === 'message') done(first.bytes.toString('latin1'));
    };
    const onClose = (): void => done('closed');
    const timer = setTimeout(() => done(undefined), 1500);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.write(bytes);
  });
}
