import { describeError, isPermanent, PermanentError, TransientError } from '../../../src/ports/errors.js';

const withCode = (code: string): Error => Object.assign(new Error('driver text with "values"'), { code });

describe('the error policy: which failures can never succeed', () => {
  test.each<[string, unknown, boolean]>([
    ['a PermanentError', new PermanentError('job data has no valid messageIds'), true],
    ['an error caused by a PermanentError', new Error('batch failed', { cause: new PermanentError('bad') }), true],
    ['SQLSTATE 22P02 (invalid text for a type)', withCode('22P02'), true],
    ['SQLSTATE 23502 (not-null violation)', withCode('23502'), true],
    ['SQLSTATE 42703 (undefined column)', withCode('42703'), true],
    ['a TransientError, even with a permanent cause', new TransientError('later', { cause: withCode('22P02') }), false],
    ['SQLSTATE 08006 (connection failure)', withCode('08006'), false],
    ['SQLSTATE 57P01 (admin shutdown)', withCode('57P01'), false],
    ['SQLSTATE 40001 (serialization failure)', withCode('40001'), false],
    ['ECONNREFUSED', withCode('ECONNREFUSED'), false],
    ['a plain Error', new Error('anything'), false],
    ['a thrown string', 'oops', false],
  ])('%s → permanent: %s', (_what, err, permanent) => {
    expect(isPermanent(err)).toBe(permanent);
  });

  test('describeError says the kind and code, never the message', () => {
    expect(describeError(withCode('22P02'))).toBe('Error (22P02)');
    expect(describeError(new PermanentError('job data has no valid messageIds'))).toBe('PermanentError');
    expect(describeError(Object.assign(new Error('x'), { code: 'has spaces "and quotes"' }))).toBe('Error');
  });
});
