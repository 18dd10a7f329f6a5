import { describe, expect, it } from 'vitest';
import { MemoryPacer } from '../../../shared/fichier/memory-pacer.js';
import {
  oldestWaitingAt,
  QUEUE_AGE_FRESH_MS,
  QUEUE_AGE_NOTE_MS,
  replacesNote,
  waitingNoteFor,
} from '../../../shared/jobs/queue-age.js';

const t0 = Date.parse('2026-03-01T12:00:00Z');
const job = (status: 'queued' | 'submitting' | 'done', agoMs: number) => ({
  status,
  createdAt: new Date(t0 - agoMs).toISOString(),
});

describe('waitingNoteFor', () => {
  it('notes the oldest queued job once it has waited 5 minutes, and nothing for younger or sent jobs', () => {
    expect(waitingNoteFor([job('queued', 60_000), job('submitting', 3_600_000)], {}, t0)).toBeUndefined();
    expect(waitingNoteFor([job('queued', QUEUE_AGE_NOTE_MS), job('queued', 7_200_000)], {}, t0)).toEqual({
      createdAt: t0 - 7_200_000,
      seenAt: t0,
    });
  });

  it('does not write again within 5 minutes for the same or a younger job, but does for an older one', () => {
    const state = { oldestWaiting: { createdAt: t0 - 3_600_000, seenAt: t0 - 60_000 } };
    expect(waitingNoteFor([job('queued', 3_600_000)], state, t0)).toBeUndefined();
    expect(waitingNoteFor([job('queued', 1_800_000)], state, t0)).toBeUndefined();
    expect(waitingNoteFor([job('queued', 5_000_000)], state, t0)).toEqual({
      createdAt: t0 - 5_000_000,
      seenAt: t0,
    });
    expect(waitingNoteFor([job('queued', 1_800_000)], state, t0 + QUEUE_AGE_NOTE_MS)).toEqual({
      createdAt: t0 - 1_800_000,
      seenAt: t0 + QUEUE_AGE_NOTE_MS,
    });
  });
});

describe('oldestWaitingAt', () => {
  it('stands for the age seen while the note is fresh, and for nothing after', () => {
    const state = { oldestWaiting: { createdAt: t0 - 3_600_000, seenAt: t0 } };
    expect(oldestWaitingAt(state, t0 + 60_000)).toBe(t0 + 60_000 - 3_600_000);
    expect(oldestWaitingAt(state, t0 + QUEUE_AGE_FRESH_MS + 1)).toBeUndefined();
    expect(oldestWaitingAt(null, t0)).toBeUndefined();
  });
});

describe('MemoryPacer.noteWaiting', () => {
  it('keeps the note by the same rule as the shared pacer', async () => {
    const pacer = new MemoryPacer();
    const first = { createdAt: t0 - 3_600_000, seenAt: t0 };
    await pacer.noteWaiting('k', first);
    await pacer.noteWaiting('k', { createdAt: t0 - 60_000 * 10, seenAt: t0 + 1000 });
    expect((await pacer.state('k')).oldestWaiting).toEqual(first);
    expect(replacesNote(first, { createdAt: t0, seenAt: t0 + QUEUE_AGE_NOTE_MS })).toBe(true);
  });
});
