/**
 * Job state changes as events, for the local console and the tests: a decorator over the job store that
 * reports each successful create and transition. It never changes what the store does, and a listener
 * that throws cannot break the pipeline.
 */
import type { JobError, JobStatus } from '../../shared/jobs/model.js';
import type { RemoteStore } from '../../shared/jobs/remote-store.js';
import type { JobRecord, JobStore } from '../../shared/jobs/store.js';

/** One job reaching a state. */
export interface JobChange {
  id: string;
  url: string;
  status: JobStatus;
  /** Epoch ms of the change, as the store recorded it. */
  at: number;
  remoteId?: number;
  fileUrl?: string;
  error?: JobError;
}

function changeOf(job: JobRecord, at: number): JobChange {
  return {
    id: job.id,
    url: job.url,
    status: job.status,
    at,
    ...(job.remoteId !== undefined ? { remoteId: job.remoteId } : {}),
    ...(job.fileUrl ? { fileUrl: job.fileUrl } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}

/**
 * Wraps `store` so that `listener` hears every job created (`queued`) and every applied transition, with
 * the job as the store wrote it (what a DynamoDB stream's new image carries in AWS).
 */
export function observeJobStore(
  store: JobStore,
  listener: (change: JobChange, job: JobRecord) => void,
): JobStore {
  const emit = (job: JobRecord, at: number) => {
    try {
      listener(changeOf(job, at), job);
    } catch {
      // A console printer must never turn a stored transition into a failed one.
    }
  };
  const createJob: JobStore['createJob'] = async (job, now) => {
    const out = await store.createJob(job, now);
    if (out.created) emit(out.job, now);
    return out;
  };
  const transition: JobStore['transition'] = async (id, expected, patch, now) => {
    const job = await store.transition(id, expected, patch, now);
    emit(job, now);
    return job;
  };
  // A Proxy rather than a class, so methods the store gains later are forwarded without edits here.
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'createJob') return createJob;
      if (prop === 'transition') return transition;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Wraps `remotes` so that `listener` hears each job of a newly followed request as `submitted` (a sent
 * job stays `submitting` in the job store: its request item is what makes it `submitted`). `urlOf` gives
 * the job's URL as last heard from the job store, or an empty string.
 */
export function observeRemoteStore(
  remotes: RemoteStore,
  urlOf: (jobId: string) => string,
  listener: (change: JobChange) => void,
): RemoteStore {
  const trackRemote: RemoteStore['trackRemote'] = async (remote) => {
    await remotes.trackRemote(remote);
    for (const id of remote.jobIds) {
      try {
        listener({
          id,
          url: urlOf(id),
          status: 'submitted',
          at: remote.submittedAt,
          remoteId: remote.remoteId,
        });
      } catch {
        // As above: a listener never breaks the pipeline.
      }
    }
  };
  return new Proxy(remotes, {
    get(target, prop) {
      if (prop === 'trackRemote') return trackRemote;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
