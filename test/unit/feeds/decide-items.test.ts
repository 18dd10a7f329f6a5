import { describe, expect, it } from 'vitest';
import { DEFAULT_FEEDS_MAX_BYTES, loadConfig } from '../../../shared/app/config.js';
import { type DecideContext, decideItems } from '../../../shared/feeds/decide-items.js';
import { itemKey } from '../../../shared/feeds/dedupe.js';
import { compileFilters } from '../../../shared/feeds/filters.js';
import type { SeenRecord } from '../../../shared/feeds/store.js';
import { FEED_MAX_BODY_BYTES } from '../../../shared/net/guarded-fetch.js';
import { item } from './fixtures.js';

const NOW = Date.UTC(2026, 11, 1);
const DAY = 86_400_000;

function ctx(over: Partial<DecideContext> = {}): DecideContext {
  return {
    filters: compileFilters({}),
    pick: 'enclosure',
    filterRev: 0,
    baselined: true,
    backfill: 0,
    now: NOW,
    tooOldBefore: NOW - 90 * DAY,
    seen: new Map(),
    ...over,
  };
}

const ep = (n: number, published = NOW - n * DAY) =>
  item({
    guid: `ep${n}`,
    title: `Episode ${n}`,
    published,
    enclosures: [{ url: `https://f.example/${n}.mp3` }],
  });

const seen = (entries: [ReturnType<typeof ep>, SeenRecord['kind'], number][]) =>
  new Map(
    entries.map(([i, kind, rev]) => [
      itemKey(i),
      { key: itemKey(i), kind, rev, expiresAt: NOW / 1000 + 1e6 },
    ]),
  );

describe('decideItems', () => {
  it('on the first fetch, enqueues only the newest `backfill` items by date and baselines the rest', () => {
    const out = decideItems([ep(3), ep(1), ep(2)], ctx({ baselined: false, backfill: 2 }));

    expect(out.enqueue.map((e) => e.item.guid)).toEqual(['ep1', 'ep2']);
    expect(out.skipped).toEqual([expect.objectContaining({ reason: 'baseline', remember: 'b' })]);
  });

  it('with backfill 0, the first fetch enqueues nothing', () => {
    const out = decideItems([ep(1), ep(2)], ctx({ baselined: false }));
    expect(out.enqueue).toEqual([]);
    expect(out.skipped.map((s) => s.reason)).toEqual(['baseline', 'baseline']);
  });

  it('does not decide remembered items again, except filter skips made under older filters', () => {
    const items = [ep(1), ep(2), ep(3)];
    const remembered = seen([
      [items[0]!, 'e', 0],
      [items[1]!, 's', 0],
      [items[2]!, 's', 1],
    ]);

    const out = decideItems(items, ctx({ filterRev: 1, seen: remembered }));

    expect(out.alreadySeen).toEqual([itemKey(items[0]!), itemKey(items[2]!)]);
    expect(out.enqueue.map((e) => e.item.guid)).toEqual(['ep2']);
  });

  it('skips with a visible reason: filter, no URL, too old, repeated in the document', () => {
    const out = decideItems(
      [
        ep(1),
        item({ guid: 'cam', title: 'Episode CAM', enclosures: [{ url: 'https://f.example/cam.mp4' }] }),
        item({ guid: 'nourl', title: 'Note' }),
        ep(400),
        ep(1),
      ],
      ctx({ filters: compileFilters({ exclude: ['\\bcam\\b'] }) }),
    );

    expect(out.enqueue.map((e) => e.item.guid)).toEqual(['ep1']);
    expect(out.skipped.map((s) => [s.item.guid, s.reason, s.detail])).toEqual([
      ['ep1', 'duplicate', expect.stringMatching(/earlier in this document/)],
      ['cam', 'filter', 'exclude: \\bcam\\b'],
      ['nourl', 'noUrl', expect.any(String)],
      ['ep400', 'tooOld', expect.stringMatching(/before the dedupe window/)],
    ]);
  });

  it('normalises job URLs and keeps their query strings', () => {
    const out = decideItems(
      [item({ guid: 'q', enclosures: [{ url: 'HTTPS://F.Example:443/a.bin?sig=a%2Fb&x=1#frag' }] })],
      ctx(),
    );
    expect(out.enqueue[0]!.urls).toEqual(['https://f.example/a.bin?sig=a%2Fb&x=1']);
  });
});

describe('feed limits', () => {
  it('FEEDS_MAX_BYTES defaults to the outbound client’s feed cap (5 MiB) and FEEDS_SEEN_DAYS to 90', () => {
    const config = loadConfig({ RELAY_TABLE_NAME: 't', RELAY_QUEUE_URL: 'http://127.0.0.1/q' });
    expect(DEFAULT_FEEDS_MAX_BYTES).toBe(FEED_MAX_BODY_BYTES);
    expect(config).toMatchObject({ feedsMaxBytes: 5 * 1024 * 1024, feedsSeenDays: 90 });
    expect(
      loadConfig({ RELAY_TABLE_NAME: 't', RELAY_QUEUE_URL: 'http://127.0.0.1/q', FEEDS_SEEN_DAYS: '7' })
        .feedsSeenDays,
    ).toBe(7);
    expect(() =>
      loadConfig({ RELAY_TABLE_NAME: 't', RELAY_QUEUE_URL: 'http://127.0.0.1/q', FEEDS_MAX_BYTES: 'lots' }),
    ).toThrow(/FEEDS_MAX_BYTES/);
  });
});
