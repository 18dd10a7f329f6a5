import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { itemKey, MAX_ITEM_KEY_LENGTH, uniqueItems } from '../../../shared/feeds/dedupe.js';
import { item, parseFixture } from './fixtures.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('itemKey', () => {
  it('uses the guid when there is one', () => {
    expect(itemKey(item({ guid: 'pod-episode-1', link: 'https://a.example/1' }))).toBe('guid:pod-episode-1');
  });

  it('uses the first enclosure URL when there is no guid', () => {
    const it1 = item({
      link: 'https://a.example/page',
      enclosures: [{ url: 'https://a.example/f1' }, { url: 'https://a.example/f2' }],
    });

    expect(itemKey(it1)).toBe('url:https://a.example/f1');
  });

  it('uses the link when there is neither guid nor enclosure', () => {
    expect(itemKey(item({ link: 'http://old.example/files/tool-1.0.zip' }))).toBe(
      'url:http://old.example/files/tool-1.0.zip',
    );
  });

  it('hashes title and publication time when the item has no guid and no URL', () => {
    const it1 = item({ title: 'Announcement', published: 1_704_448_800_000 });

    expect(itemKey(it1)).toBe(`title#${sha('Announcement\n1704448800000')}`);
    expect(itemKey({ ...it1, published: 1_704_448_800_001 })).not.toBe(itemKey(it1));
  });

  it('keeps keys of different kinds apart even for the same text', () => {
    const value = 'https://a.example/x';

    expect(itemKey(item({ guid: value }))).not.toBe(itemKey(item({ link: value })));
  });

  it('hashes a value that would make the key longer than the bound, and the hashed form cannot equal a raw one', () => {
    const signed = `https://cdn.example/f.bin?X-Amz-Signature=${'a'.repeat(1500)}`;

    const key = itemKey(item({ enclosures: [{ url: signed }] }));

    expect(key).toBe(`url#${sha(signed)}`);
    expect(key.length).toBeLessThanOrEqual(MAX_ITEM_KEY_LENGTH);
    expect(itemKey(item({ guid: sha(signed) }))).toBe(`guid:${sha(signed)}`);
  });

  it('measures the bound in UTF-8 bytes', () => {
    const guid = 'é'.repeat(100); // 100 characters, 200 bytes

    expect(itemKey(item({ guid }))).toBe(`guid#${sha(guid)}`);
  });
});

describe('uniqueItems', () => {
  it('drops repeated items of one fetch, keeping the first and the feed order', () => {
    const items = parseFixture('rss2-enclosures.xml').items;

    const unique = uniqueItems(items);

    expect(unique.map((i) => i.title)).toEqual([
      'Episode 1: Two formats',
      'Episode 2: Media RSS',
      'Tom & Jerry & Friends',
      'Episode 5: relative URLs',
      'Announcement without any URL',
    ]);
  });
});
