import type { Deps } from '../app/deps.js';
import { keyIdOf } from '../fichier/memory-pacer.js';
import type { PacerState } from '../fichier/pacer.js';

/** Last forced key read per key provider, so an open circuit costs at most one secret read a minute. */
const lastRefresh = new WeakMap<object, number>();
/** Shortest spacing of forced key reads while the circuit is open. */
export const KEY_RECHECK_MS = 60_000;

/**
 * The pacer state of the key in use. When its circuit is open, the key is read again (at most once a
 * minute per process): a rotated key has another key id, hence a closed circuit, and work resumes.
 */
export async function currentKeyState(
  deps: Pick<Deps, 'keyProvider' | 'pacer' | 'clock' | 'logger'>,
): Promise<{ keyId: string; state: PacerState }> {
  const keyId = keyIdOf(await deps.keyProvider.get());
  const state = await deps.pacer.state(keyId);
  if (!state.circuitOpen) return { keyId, state };
  const now = deps.clock.now();
  const last = lastRefresh.get(deps.keyProvider);
  if (last !== undefined && now - last < KEY_RECHECK_MS && now >= last) return { keyId, state };
  lastRefresh.set(deps.keyProvider, now);
  const freshId = keyIdOf(await deps.keyProvider.refresh());
  if (freshId === keyId) return { keyId, state };
  deps.logger.info('1fichier key changed since the circuit opened; using the new key', {
    oldKeyId: keyId,
    keyId: freshId,
  });
  return { keyId: freshId, state: await deps.pacer.state(freshId) };
}
