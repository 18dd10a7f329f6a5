/**
 * Closing the auth circuit: the half-open probe the poller makes (user/info.cgi, within its limit of one
 * call per 5 minutes per user) and the operator's reset. Either way, the jobs left `queued` while the
 * circuit was open are sent again at once.
 */
import type { Deps } from '../app/deps.js';
import { FichierError } from '../fichier/errors.js';
import { keyIdOf } from '../fichier/key-id.js';
import type { Pacer, PacerState } from '../fichier/pacer.js';
import { requeueStaleJobs } from './requeue.js';

/** What a probe did. */
export type ProbeResult = 'closed' | 'open' | 'skipped';

/**
 * Probes an open circuit once `circuitProbeS` has passed since it opened (or since the last probe), one
 * prober at a time across processes. A circuit only a person can close (`No such user #93`) is never
 * probed. On success the circuit closes.
 */
export async function probeCircuit(
  keyId: string,
  state: PacerState,
  deps: Pick<Deps, 'config' | 'pacer' | 'fichier' | 'clock' | 'logger' | 'metrics'>,
): Promise<ProbeResult> {
  const { pacer, clock, logger, config } = deps;
  if (!state.circuitOpen || state.circuitManual) return 'skipped';
  if (!(await pacer.claimProbe(keyId, clock.now(), config.circuitProbeS * 1000))) return 'skipped';
  try {
    await deps.fichier.userInfo({ probe: true });
  } catch (err) {
    if (!(err instanceof FichierError)) throw err;
    logger.warn('circuit probe failed; the circuit stays open', { keyId, error: err.message });
    deps.metrics.count('CircuitProbeFailed');
    return 'open';
  }
  await pacer.reset(keyId);
  logger.info('circuit closed: the 1fichier key works again', { keyId });
  deps.metrics.count('CircuitClosed');
  return 'closed';
}

/** Outcome of {@link resetCircuit}. */
export interface CircuitReset {
  keyId: string;
  /** The state before the reset. */
  before: PacerState;
  /** Queued jobs sent to the queue again. */
  requeued: number;
}

/**
 * The operator's reset (`POST /admin/circuit/reset`, `infra/scripts/reset-circuit.ts`): closes the circuit
 * and ends any pause for the key in use, then sends the waiting jobs again. Of the pacer it only reads and
 * resets the state, so the API passes the pacer's item (`shared/aws/pacer-item.ts`), not the pacer.
 */
export async function resetCircuit(
  deps: Pick<Deps, 'keyProvider' | 'store' | 'queue' | 'clock' | 'logger'> & {
    pacer: Pick<Pacer, 'state' | 'reset'>;
  },
): Promise<CircuitReset> {
  const keyId = keyIdOf(await deps.keyProvider.refresh());
  const before = await deps.pacer.state(keyId);
  await deps.pacer.reset(keyId);
  deps.logger.info('circuit reset by an operator', {
    keyId,
    wasOpen: before.circuitOpen,
    reason: before.circuitReason,
  });
  const requeued = await requeueStaleJobs(deps, deps.clock.now() + 1);
  return { keyId, before, requeued };
}
