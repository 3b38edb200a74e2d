import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BASIC_AUTH_CHALLENGE, checkBasicAuth, parseBasicAuth, safeEqual } from '../src/dashboard/basic-auth.js';
import { hostnameOf, isCrossSiteWrite, isLoopbackHostHeader } from '../src/dashboard/request-guard.js';

const basic = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
const expected = { user: 'admin', password: 'pa:ss wörd' };

describe('dashboard basic auth', () => {
  it('accepts exactly the configured user and password', () => {
    assert.equal(checkBasicAuth(basic('admin:pa:ss wörd'), expected), true, 'a password may contain ":" and non-ASCII');
    assert.equal(checkBasicAuth(`basic   ${Buffer.from('admin:pa:ss wörd').toString('base64')}`, expected), true, 'the scheme is case-insensitive');
  });

  it('refuses anything else', () => {
    const refused: (string | undefined)[] = [
      undefined,
      '',
      'Basic',
      'Basic ',
      basic('admin:wrong'),
      basic('Admin:pa:ss wörd'),
      basic('admin:pa:ss wörd '),
      basic('admin'),
      basic(':pa:ss wörd'),
      `Bearer ${Buffer.from('admin:pa:ss wörd').toString('base64')}`,
      'Basic !!!notbase64',
      `Basic ${Buffer.from('admin:pa:ss wörd').toString('base64').replace(/=+$/, '')}x`,
    ];
    for (const header of refused) assert.equal(checkBasicAuth(header, expected), false, String(header));
  });

  it('parses the header, splitting at the first colon', () => {
    assert.deepEqual(parseBasicAuth(basic('u:a:b')), { user: 'u', password: 'a:b' });
    assert.deepEqual(parseBasicAuth(basic('u:')), { user: 'u', password: '' });
    assert.equal(parseBasicAuth(basic('no colon')), undefined);
  });

  it('compares strings of any length without throwing', () => {
    assert.equal(safeEqual('a', 'a'), true);
    assert.equal(safeEqual('a', 'a'.repeat(1000)), false);
    assert.equal(safeEqual('', ''), true);
  });

  it('challenges with a Basic realm', () => {
    assert.match(BASIC_AUTH_CHALLENGE, /^Basic realm="[^"]+"/);
  });
});

describe('dashboard request guard', () => {
  it('refuses writes from another origin, lets reads and non-browser clients through', () => {
    const host = '127.0.0.1:3000';
    assert.equal(isCrossSiteWrite('PUT', { origin: 'https://evil.example', host }), true);
    assert.equal(isCrossSiteWrite('POST', { origin: 'http://127.0.0.1:3001', host }), true, 'another port is another origin');
    assert.equal(isCrossSiteWrite('DELETE', { origin: 'null', host }), true);
    assert.equal(isCrossSiteWrite('PUT', { origin: 'http://127.0.0.1:3000', host }), false);
    assert.equal(isCrossSiteWrite('PUT', { origin: 'https://radar.example.com', host: 'dashboard:3000', forwardedHost: 'radar.example.com' }), false, 'behind a reverse proxy');
    assert.equal(isCrossSiteWrite('PUT', { host }), false, 'no Origin: curl, scripts');
    assert.equal(isCrossSiteWrite('GET', { origin: 'https://evil.example', host }), false);
  });

  it('answers an unauthenticated dashboard only when addressed by a loopback name', () => {
    for (const h of ['127.0.0.1:3000', 'localhost:3000', 'LOCALHOST', '[::1]:3000', '127.0.0.1']) assert.equal(isLoopbackHostHeader(h), true, h);
    for (const h of [undefined, '', 'evil.example:3000', '192.168.1.5:3000', '0.0.0.0:3000', 'a b']) assert.equal(isLoopbackHostHeader(h), false, String(h));
    assert.equal(hostnameOf('[::1]:3000'), '::1');
  });
});
