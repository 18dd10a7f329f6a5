import { describe, expect, it } from 'vitest';
import {
  keyProviderFromEnv,
  redactSecrets,
  staticKeyProvider,
} from '../../../shared/fichier/key-providers.js';

describe('staticKeyProvider', () => {
  it('returns the same key from get and refresh', async () => {
    const p = staticKeyProvider('k-123');
    expect(await p.get()).toBe('k-123');
    expect(await p.refresh()).toBe('k-123');
  });

  it('refuses an empty key', () => {
    expect(() => staticKeyProvider('')).toThrow(/empty/);
  });
});

describe('keyProviderFromEnv', () => {
  it('reads ONEFICHIER_API_KEY', async () => {
    expect(await keyProviderFromEnv({ ONEFICHIER_API_KEY: ' abc ' }).get()).toBe('abc');
  });

  it('fails fast naming the variable when it is unset', () => {
    expect(() => keyProviderFromEnv({})).toThrow(/ONEFICHIER_API_KEY/);
  });
});

describe('redactSecrets', () => {
  it('hides Bearer tokens', () => {
    expect(redactSecrets('authorization: Bearer abc.def-123, next')).toBe(
      'authorization: Bearer [redacted], next',
    );
  });
});
