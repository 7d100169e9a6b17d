// The exported path matcher: static, :param (decoded), trailing *, precedence and malformed escapes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError, Router, compilePath } from '../../src/index.js';

describe('Router', () => {
  it('matches static paths and returns the stored value', () => {
    const r = new Router<string>().add('/ws', 'ws').add('/a/b', 'ab');
    assert.deepEqual(r.find('/ws'), { value: 'ws', params: {} });
    assert.deepEqual(r.find('/a/b'), { value: 'ab', params: {} });
    assert.equal(r.find('/a'), null);
    assert.equal(r.find('/ws/'), null);
  });

  it('captures and decodes :params', () => {
    const r = new Router<number>().add('/rooms/:id', 1).add('/u/:a/p/:b', 2);
    assert.deepEqual(r.find('/rooms/caf%C3%A9%20bar'), { value: 1, params: { id: 'café bar' } });
    assert.deepEqual(r.find('/u/1/p/2'), { value: 2, params: { a: '1', b: '2' } });
    assert.equal(r.find('/rooms/'), null, 'a param never matches an empty segment');
  });

  it('throws a 400 HttpError for a malformed escape in a param', () => {
    const r = new Router<number>().add('/rooms/:id', 1);
    assert.throws(
      () => r.find('/rooms/%E0%A4%A'),
      (err: unknown) => err instanceof HttpError && err.status === 400
    );
  });

  it('a trailing * takes the rest of the path, including nothing', () => {
    const r = new Router<string>().add('/chat/*', 'chat').add('/*', 'all');
    assert.deepEqual(r.find('/chat/general/x'), { value: 'chat', params: { '*': 'general/x' } });
    assert.deepEqual(r.find('/chat'), { value: 'chat', params: { '*': '' } });
    assert.deepEqual(r.find('/'), { value: 'all', params: { '*': '' } });
    assert.deepEqual(r.find('/x/y'), { value: 'all', params: { '*': 'x/y' } });
  });

  it('prefers static over :param over *, backtracking when a branch dead-ends', () => {
    const r = new Router<string>()
      .add('/users/me', 'me')
      .add('/users/:id', 'id')
      .add('/users/:id/posts', 'posts')
      .add('/users/*', 'rest');
    assert.equal(r.find('/users/me')?.value, 'me');
    assert.equal(r.find('/users/7')?.value, 'id');
    assert.equal(r.find('/users/7/posts')?.value, 'posts');
    assert.deepEqual(r.find('/users/7/other'), { value: 'rest', params: { '*': '7/other' } });
  });

  it('re-adding a pattern replaces its value; get() reads by pattern', () => {
    const r = new Router<number>().add('/a/:x', 1).add('/a/:x', 2);
    assert.equal(r.get('/a/:x'), 2);
    assert.equal(r.find('/a/q')?.value, 2);
    assert.deepEqual(r.routes(), ['/a/:x']);
  });

  it('rejects bad patterns', () => {
    assert.throws(() => new Router().add('x', 1), TypeError);
    assert.throws(() => new Router().add('/a/*/b', 1), TypeError);
    assert.throws(() => new Router().add('/a/:x/:x', 1), TypeError);
  });

  it('compilePath gives a one-pattern matcher', () => {
    const m = compilePath('/rooms/:id');
    assert.deepEqual(m('/rooms/42'), { id: '42' });
    assert.equal(m('/rooms'), null);
  });
});
