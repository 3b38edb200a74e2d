import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { htmlToText, parseDate } from '../src/index.js';

describe('parseDate', () => {
  const cases: [string, string | null][] = [
    ['Thu, 01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'],
    ['Thu, 01 Jan 2004 19:48:21 +0200', '2004-01-01T17:48:21.000Z'],
    ['Thu, 1 Jan 2004 19:48 EST', '2004-01-02T00:48:00.000Z'],
    ['01 Jan 2004 19:48:21 PDT', '2004-01-02T02:48:21.000Z'],
    ['Thu, 01 Jan 04 19:48:21 GMT', '2004-01-01T19:48:21.000Z'],
    ['Thu,01 Jan 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'],
    ['Thursday, 01-Jan-2004 19:48:21 UTC', '2004-01-01T19:48:21.000Z'],
    ['Mon, 02 Jan 2006 15:04:05 -0700 (MST)', '2006-01-02T22:04:05.000Z'],
    ['Wed, 9 Apr 2008 07:14:06 GMT+2', '2008-04-09T05:14:06.000Z'],
    ['Thu, Jan 01 2004 19:48:21 GMT', '2004-01-01T19:48:21.000Z'],
    ['Jan 2, 2006 3:04 PM', '2006-01-02T15:04:00.000Z'],
    ['Thu Jan  1 19:48:21 2004', '2004-01-01T19:48:21.000Z'],
    ['1 January 2004', '2004-01-01T00:00:00.000Z'],
    ['2003-12-31T10:14:55Z', '2003-12-31T10:14:55.000Z'],
    ['2003-12-31T10:14:55.123456-08:00', '2003-12-31T18:14:55.123Z'],
    ['2003-12-31T10:14:55+0530', '2003-12-31T04:44:55.000Z'],
    ['2003-12-31T10:14Z', '2003-12-31T10:14:00.000Z'],
    ['2003-12-31 10:14:55', '2003-12-31T10:14:55.000Z'],
    ['2003-12-31', '2003-12-31T00:00:00.000Z'],
    ['20031231T101455Z', '2003-12-31T10:14:55.000Z'],
    ['  2003-12-31T10:14:55Z\n', '2003-12-31T10:14:55.000Z'],
    ['Fri, 31 Feb 2004 10:00:00 GMT', null],
    ['2004-13-01T00:00:00Z', null],
    ['2004-02-30', null],
    ['Thu, 01 Foo 2004 19:48:21 GMT', null],
    ['yesterday', null],
    ['', null],
    ['12', null],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.equal(parseDate(input)?.toISOString() ?? null, expected));
  }
  it('handles null and absurdly long input', () => {
    assert.equal(parseDate(null), null);
    assert.equal(parseDate('1'.repeat(10_000)), null);
  });
});

describe('htmlToText', () => {
  const cases: [string, string][] = [
    ['Example <b>Atom</b>', 'Example Atom'],
    ['<p>One</p><p>Two</p>', 'One Two'],
    ['line<br>break<br/>again', 'line break again'],
    ['1 < 2 and 3 > 2', '1 < 2 and 3 > 2'],
    ['Tom &amp; Jerry &lt;3 &#8220;quoted&#x201D; &hellip;', 'Tom & Jerry <3 “quoted” …'],
    ['AT&T &unknown; &amp', 'AT&T &'], // an unknown reference is removed, a bare '&' kept
    ['&lol9;&foo;x &my-ent; &copy; &#169; &euro', 'x © © &euro'],
    ['<script>var x = "<p>no</p>";</script>visible<style>p{}</style>', 'visible'],
    ['a<!-- hidden <b>x</b> -->b', 'ab'],
    ['<a href="x>y" title=\'q\'>link</a> text', 'link text'],
    ['  lots \n\t of   space\u00a0here ', 'lots of space here'],
    ['<img alt="년" />', ''],
    ['don&#146;t', 'don’t'],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.equal(htmlToText(input), expected));
  }
});
