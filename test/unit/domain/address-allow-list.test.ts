import { addressAllowed, parseRange } from '../../../src/domain/address-allow-list.js';

describe('Source address allow-lists', () => {
  test.each([
    ['10.1.2.3', ['10.1.2.3'], true],
    ['::ffff:10.1.2.3', ['10.1.2.3'], true],
    ['10.1.2.4', ['10.1.2.3'], false],
    ['10.1.2.200', ['10.1.2.0/24'], true],
    ['10.1.3.1', ['10.1.2.0/24'], false],
    ['127.0.0.3', ['127.0.0.0/30'], true],
    ['127.0.0.5', ['127.0.0.0/30'], false],
    ['2001:db8::1', ['2001:db8::/32'], true],
    ['2001:db9::1', ['2001:db8::/32'], false],
    ['::1', ['::1'], true],
    ['::1', ['0.0.0.0/0'], false],
    ['anything', ['0.0.0.0/0'], false],
  ])('%s against %j: %s', (address, list, allowed) => {
    expect(addressAllowed(address, list)).toBe(allowed);
  });

  test.each(['10.1.2', '10.1.2.256', '10.0.0.0/33', '2001:db8::/129', '1::2::3', 'host.example', '10.0.0.0/8/8', '01.2.3.4'])(
    '%s is not an entry',
    (entry) => {
      expect(parseRange(entry)).toBeUndefined();
    },
  );
});
