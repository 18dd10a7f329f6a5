import { describe, expect, it } from 'vitest';
import { FloodGuard } from '../../../infra/sandbox/flood-guard.js';

describe('FloodGuard', () => {
  it('admits at most `rate` requests in any second, counted when they arrived', () => {
    let now = 10_000;
    const guard = new FloodGuard(() => now);
    // Three requests that arrived 400 ms apart, read in one burst once the server got to them.
    now = 11_000;
    expect(guard.admit(['key:k'], 3, 10_000)).toBe(true);
    expect(guard.admit(['key:k'], 3, 10_400)).toBe(true);
    expect(guard.admit(['key:k'], 3, 10_800)).toBe(true);
    // A fourth that arrived 1 s after the first is within the limit; one arriving with it is not.
    expect(guard.admit(['key:k'], 3, 11_001)).toBe(true);
    expect(guard.admit(['key:k'], 3, 11_002)).toBe(false);
  });
});
