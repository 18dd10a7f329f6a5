/** The job model (docs/pipeline.md "Job model"). */

export const JOB_STATUSES = ['queued', 'submitting', 'submitted', 'done', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['done', 'failed'];

/** Where a job came from; feed jobs name their feed (`feed:<feedId>`). */
export type JobSource = 'api' | 'hook' | 'feed' | 'cli' | `feed:${string}`;

export interface JobError {
  code: string;
  message: string;
}

/** A job as the HTTP API returns it. */
export interface Job {
  id: string;
  url: string;
  status: JobStatus;
  /** Destination folder path, '' for the root. */
  folder: string;
  source: JobSource;
  createdAt: string;
  updatedAt: string;
  attempts: number;
  remoteId?: number;
  fileUrl?: string;
  error?: JobError;
  callbackUrl?: string;
}

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}
