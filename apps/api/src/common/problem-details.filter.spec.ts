import { QueryFailedError } from 'typeorm';
import { toProblem } from './problem-details.filter';

const databaseError = (code: string, message = 'secret detail from PostgreSQL') =>
  new QueryFailedError('UPDATE t SET x = $1', [1], Object.assign(new Error(message), { code }));

describe('toProblem', () => {
  it.each([
    ['22003', 422, 'invalid_value'], // numeric value out of range
    ['22008', 422, 'invalid_value'], // datetime field overflow
    ['22P02', 422, 'invalid_value'], // invalid text representation
    ['22P05', 422, 'invalid_value'], // untranslatable character (NUL)
    ['23502', 422, 'invalid_value'], // not null violation
    ['23514', 422, 'invalid_value'], // check violation
    ['23505', 409, 'conflict'], // unique violation
    ['23503', 409, 'conflict'], // foreign key violation
  ])('maps PostgreSQL error %s caused by input to %i %s without its message', (sqlState, status, code) => {
    const { problem } = toProblem(databaseError(sqlState), 'req-1');
    expect(problem).toMatchObject({ status, code });
    expect(JSON.stringify(problem)).not.toContain('secret detail');
  });

  it('keeps other database errors a 500 that says nothing of the cause', () => {
    const { problem } = toProblem(databaseError('53300'), 'req-1');
    expect(problem).toMatchObject({ status: 500, code: 'internal_error' });
    expect(JSON.stringify(problem)).not.toContain('secret detail');
  });

  it('maps a path segment over the router limit to 414', () => {
    expect(toProblem(Object.assign(new Error('too long'), { code: 'FST_ERR_MAX_PARAM_LENGTH' }), 'req-1').problem).toMatchObject({
      status: 414,
      code: 'uri_too_long',
    });
  });
});
