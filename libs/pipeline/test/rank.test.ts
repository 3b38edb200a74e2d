import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchKeywords, rankCandidates, scoreCandidate, type RankCandidate, type RankOptions } from '../src/rank.js';

const start = new Date('2026-01-01T10:00:00Z');
const end = new Date('2026-01-01T11:00:00Z');
const base: RankOptions = { windowStart: start, windowEnd: end, keywords: [], excludeKeywords: [], digestSize: 10, maxPerSource: 10 };

function candidate(id: number, overrides: Partial<RankCandidate> = {}): RankCandidate {
  return { id, title: `Item ${id}`, summary: null, effectiveAt: new Date(start.getTime() + 30 * 60_000), points: null, comments: null, sourceIds: [1], sourceWeight: 1, ...overrides };
}

describe('scoreCandidate', () => {
  it('scores recency by position in the window', () => {
    const early = scoreCandidate(candidate(1, { effectiveAt: start }), base);
    const late = scoreCandidate(candidate(2, { effectiveAt: new Date(end.getTime() - 1) }), base);
    assert.equal(early.recency, 0);
    assert.ok(late.recency > 0.99);
    assert.ok(late.total > early.total);
  });

  it('clamps recency of late items from before the window to 0', () => {
    assert.equal(scoreCandidate(candidate(1, { effectiveAt: new Date(start.getTime() - 3600_000) }), base).recency, 0);
  });

  it('log-scales engagement and caps it at 1', () => {
    const none = scoreCandidate(candidate(1), base).engagement;
    const some = scoreCandidate(candidate(2, { points: 50, comments: 10 }), base).engagement;
    const huge = scoreCandidate(candidate(3, { points: 1e9 }), base).engagement;
    assert.equal(none, 0);
    assert.ok(some > 0 && some < 1);
    assert.equal(huge, 1);
  });

  it('multiplies by the source weight and rewards corroboration', () => {
    const single = scoreCandidate(candidate(1), base);
    const weighted = scoreCandidate(candidate(1, { sourceWeight: 2 }), base);
    const corroborated = scoreCandidate(candidate(1, { sourceIds: [1, 2, 3] }), base);
    assert.equal(weighted.total, Math.round(single.total * 2 * 1e4) / 1e4);
    assert.equal(corroborated.corroboration, 0.5);
    assert.ok(corroborated.total > single.total);
  });

  it('boosts keyword matches and demotes items matching none', () => {
    const options = { ...base, keywords: ['postgres', 'redis'] };
    const match = scoreCandidate(candidate(1, { title: 'Postgres 18 released' }), options);
    const miss = scoreCandidate(candidate(2, { title: 'Cooking with butter' }), options);
    assert.deepEqual(match.matchedKeywords, ['postgres']);
    assert.equal(match.keywordPenalty, 1);
    assert.equal(miss.keywordPenalty, 0.25);
    assert.ok(match.total > miss.total * 4);
  });
});

describe('matchKeywords', () => {
  it('matches whole words, case-insensitively, including non-ASCII', () => {
    assert.deepEqual(matchKeywords('Rust and Go', ['rust', 'go', 'and go']), ['rust', 'go', 'and go']);
    assert.deepEqual(matchKeywords('Trusty gopher', ['rust', 'go']), []);
    assert.deepEqual(matchKeywords('Über Straße', ['straße']), ['straße']);
    assert.deepEqual(matchKeywords('C++ (news)', ['c++', '(news)']), ['c++', '(news)']);
  });
});

describe('rankCandidates', () => {
  it('drops excluded items, orders by score, and cuts to the digest size', () => {
    const items = [
      candidate(1, { points: 10 }),
      candidate(2, { points: 500 }),
      candidate(3, { title: 'Sponsored: buy now' }),
      candidate(4, { points: 100 }),
    ];
    const result = rankCandidates(items, { ...base, excludeKeywords: ['sponsored'], digestSize: 2 });
    assert.equal(result.excluded, 1);
    assert.deepEqual(result.ranked.map((r) => r.id), [2, 4]);
    assert.deepEqual(result.ranked.map((r) => r.rank), [1, 2]);
  });

  it('caps how many items one source may take', () => {
    const items = [1, 2, 3, 4].map((id) => candidate(id, { sourceIds: [7], points: 100 * id }));
    items.push(candidate(5, { sourceIds: [8] }));
    const result = rankCandidates(items, { ...base, maxPerSource: 2 });
    assert.deepEqual(result.ranked.map((r) => r.id), [4, 3, 5]);
    assert.equal(result.capped, 2);
  });

  it('breaks ties by freshness then id, so the order is stable', () => {
    const t = new Date(start.getTime() + 10 * 60_000);
    const result = rankCandidates([candidate(9, { effectiveAt: t }), candidate(3, { effectiveAt: t })], base);
    assert.deepEqual(result.ranked.map((r) => r.id), [3, 9]);
  });
});
