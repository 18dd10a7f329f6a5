import { describe, expect, it } from 'vitest';
import { parseFichierDate } from '../../../shared/jobs/fichier-dates.js';
import { hashToken, jobIdFor } from '../../../shared/jobs/ids.js';

describe('jobIdFor', () => {
  it('is the same for the same user, URL and folder and differs when any of them differs', () => {
    const id = jobIdFor('u', 'https://a.example/x', '');
    expect(jobIdFor('u', 'https://a.example/x', '')).toBe(id);
    expect(jobIdFor('v', 'https://a.example/x', '')).not.toBe(id);
    expect(jobIdFor('u', 'https://a.example/x?y=1', '')).not.toBe(id);
    expect(jobIdFor('u', 'https://a.example/x', 'F')).not.toBe(id);
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});

describe('hashToken', () => {
  it('is the hex sha256 of the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('parseFichierDate', () => {
  it('reads Paris wall time in winter (UTC+1) and summer (UTC+2)', () => {
    expect(parseFichierDate('2026-11-27 13:00:00')).toBe(Date.UTC(2026, 10, 27, 12, 0, 0));
    expect(parseFichierDate('2026-07-01 14:30:05')).toBe(Date.UTC(2026, 6, 1, 12, 30, 5));
  });

  it('treats empty, the 1970 sentinel and garbage as no date', () => {
    expect(parseFichierDate('')).toBeUndefined();
    expect(parseFichierDate('1970-01-01 00:00:00')).toBeUndefined();
    expect(parseFichierDate('yesterday')).toBeUndefined();
  });
});
