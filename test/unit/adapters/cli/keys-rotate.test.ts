import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../../../adapters/cli/keys-rotate.js';

function output(): { text: string; write(s: string): boolean } {
  return {
    text: '',
    write(s: string) {
      this.text += s;
      return true;
    },
  };
}

describe('npm run keys:rotate: what it refuses before opening the store', () => {
  const empty = mkdtempSync(path.join(os.tmpdir(), 'stork-keys-rotate-'));

  it.each([['--batch-size', '0'], ['--batch-size', 'many'], ['--batch-size', '10001'], ['--batchsize']])(
    '%s %s: usage, exit 2',
    async (...args) => {
      const out = output();
      const err = output();
      expect(await main(args, out, err, { STORK_CONFIG_DIR: empty })).toBe(2);
      expect(err.text).toContain('usage: npm run keys:rotate');
    },
  );

  it('--help: the usage, exit 0', async () => {
    const out = output();
    expect(await main(['--help'], out, output(), {})).toBe(0);
    expect(out.text).toContain('usage: npm run keys:rotate');
  });

  it('no key configured (and no demo key), or a key file that is not a key: exit 2, naming the setting, never the content', async () => {
    const err = output();
    expect(await main([], output(), err, { STORK_CONFIG_DIR: empty })).toBe(2);
    expect(err.text).toMatch(/^STORK_DATA_KEY_FILES: no data key configured/);
    const bad = path.join(empty, 'bad.key');
    writeFileSync(bad, 'hunter2-is-not-a-key');
    const err2 = output();
    expect(await main([], output(), err2, { STORK_CONFIG_DIR: empty, STORK_DATA_KEY_FILES: bad })).toBe(2);
    expect(err2.text).toContain('bad.key is not a data key');
    expect(err2.text).not.toContain('hunter2');
  });
});
