import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitingSince } from '../src/job-age.js';

describe('waitingSince', () => {
  it('counts from when a job could be taken, not from when it was created', () => {
    assert.equal(waitingSince({ timestamp: 1_000 }), 1_000);
    assert.equal(waitingSince({ timestamp: 1_000, opts: { delay: 500 } }), 1_500);
    // Sent back to delayed (predecessor unfinished, or a retry) after it started at 9,000.
    assert.equal(waitingSince({ timestamp: 1_000, processedOn: 9_000, opts: { delay: 0 } }), 9_000);
  });
});
