import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { frame } from '../../adapters/mllp/mllp-framer.js';
import { readEnvelope } from '../../src/pipeline/hl7v2/envelope.js';
import { decodeHl7v2 } from '../../src/pipeline/hl7v2/decode.js';
import { corpusPath } from '../support/corpus.js';
import { newbornAdt } from '../support/synthetic/newborn-adt.js';
import { startTestHub, type TestHub } from '../support/test-hub.js';
import { pollUntil } from '../support/poll.js';
import { copySampleConfig } from '../support/sample-config.js';

/** Every HL7 v2 data file in the shared corpus (not the manifest, vectors or expected JSON). */
function corpusFiles(): string[] {
  const root = corpusPath('hl7v2');
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (!/\.(json|tsv)$/.test(name)) out.push(p);
    }
  };
  walk(root);
  return out;
}

const ACK_CODES = ['AA', 'AE', 'AR', 'CA', 'CE', 'CR'];

/** Sends one file's bytes (framed unless already MLLP) then a marker; returns the ACKs that came before the marker's. */
async function exchange(port: number, bytes: Buffer): Promise<string[]> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const acks: string[] = [];
  let buffer = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => {
    buffer = Buffer.concat([buffer, d]);
    for (let end = buffer.indexOf('\x1c\r'); end !== -1; end = buffer.indexOf('\x1c\r')) {
      acks.push(buffer.subarray(buffer.indexOf(0x0b) + 1, end).toString('utf8'));
      buffer = buffer.subarray(end + 2);
    }
  });
  const marker = `MARK-${createHash('sha1').update(bytes).digest('hex').slice(0, 12)}-${Date.now()}`;
  socket.write(bytes[0] === 0x0b ? bytes : frame(bytes));
  socket.write(
    frame(newbornAdt({ seed: 1, controlId: marker, sendingFacility: 'RX1', sendingApplication: 'MATERNITY', messageTime: new Date() })),
  );
  await pollUntil(() => (acks.some((a) => a.includes(`|${marker}|`)) ? true : undefined), `marker ACK after a corpus file`, 10000);
  socket.destroy();
  return acks.filter((a) => !a.includes(`|${marker}|`));
}

/** A configuration whose feeds accept every sender, type, event and version seen in the corpus, mapped as ITK ADT. */
function corpusConfig(files: readonly string[]): string {
  const dir = copySampleConfig('stork-corpus-config-');
  const feeds = JSON.parse(readFileSync(path.join(dir, 'mappings', 'feeds.json'), 'utf8')) as { feeds: Record<string, unknown>[] };
  const byFacility = new Map<string, { types: Map<string, Set<string>>; versions: Set<string>; ids: Set<string> }>();
  for (const f of files) {
    const read = readEnvelope(decodeHl7v2(readFileSync(f)).replace(/^\v/, ''));
    const env = read.ok ? read.envelope : read.partial;
    if (!env?.sendingFacility || !/^[A-Z][A-Z0-9]{2}$/.test(env.messageType ?? '') || !/^[A-Z0-9]{3}$/.test(env.triggerEvent ?? ''))
      continue;
    if (['RX1', 'RX9'].includes(env.sendingFacility)) continue;
    const entry = byFacility.get(env.sendingFacility) ?? {
      types: new Map<string, Set<string>>(),
      versions: new Set<string>(),
      ids: new Set<string>(),
    };
    entry.types.set(env.messageType ?? '', (entry.types.get(env.messageType ?? '') ?? new Set<string>()).add(env.triggerEvent ?? ''));
    if (/^2\.[0-9](\.[0-9])?$/.test(env.version ?? '')) entry.versions.add(env.version ?? '');
    if (['P', 'T', 'D'].includes(env.processingId ?? '')) entry.ids.add(env.processingId ?? '');
    byFacility.set(env.sendingFacility, entry);
  }
  let n = 0;
  for (const [facility, e] of byFacility) {
    if (e.versions.size === 0 || e.ids.size === 0) continue;
    feeds.feeds.push({
      id: `corpus-${++n}`,
      name: `Corpus sender ${n}`,
      sendingFacility: facility,
      messageTypes: Object.fromEntries([...e.types].map(([t, ev]) => [t, [...ev]])),
      versions: [...e.versions],
      processingIds: [...e.ids],
      mapping: 'itk-adt',
    });
  }
  writeFileSync(path.join(dir, 'mappings', 'feeds.json'), JSON.stringify(feeds));
  return dir;
}

describe.each([
  ['the sample configuration', false],
  ['a configuration accepting every corpus sender', true],
])('Conformance over the shared HL7 v2 corpus with %s', (_label, permissive) => {
  const files = corpusFiles();
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub(permissive ? { configDir: corpusConfig(files) } : {});
  });
  afterAll(async () => t.stop());

  test(`each of the ${files.length} files gets an ACK (or none where MSH-15 asks for none), is stored, and the listener survives`, async () => {
    const codes = new Map<string, number>();
    for (const file of files) {
      const bytes = readFileSync(file);
      const before = await t.database.db.query<{ n: string | number }>('SELECT count(*) AS n FROM messages');
      const acks = await exchange(t.mllpPort, bytes);
      const after = await t.database.db.query<{ n: string | number }>('SELECT count(*) AS n FROM messages');
      const label = path.relative(corpusPath('hl7v2'), file);
      const stored = Number(after.rows[0]?.n) - Number(before.rows[0]?.n);
      // The marker is stored too; a re-sent control id in the corpus (same sender and MSH-10) adds no row.
      expect({ label, storedAtMostOne: stored >= 1 && stored <= 2 }).toEqual({ label, storedAtMostOne: true });
      if (acks.length === 0) {
        const env = readEnvelope(decodeHl7v2(bytes));
        // Only a sender that asked for no ACK (or one on error or success alone) may get none.
        expect(`${label}: ${env.ok ? env.envelope.acceptAckType : '?'}`).toMatch(/: (NE|ER|SU)$/);
      }
      for (const ack of acks) {
        const code =
          ack
            .split('\r')
            .find((s) => s.startsWith('MSA'))
            ?.split(/[|^]/)[1] ?? '';
        expect({ label, code: ACK_CODES.includes(code) }).toEqual({ label, code: true });
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    }
    expect([...codes.keys()].length).toBeGreaterThan(0);
    if (permissive) expect(codes.get('AA') ?? codes.get('CA') ?? 0).toBeGreaterThan(0);
  });
});
