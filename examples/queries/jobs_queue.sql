-- Background job queue: N worker processes poll the jobs table.
-- jobs(id bigserial, queue text, status text, payload jsonb, run_at timestamptz, attempts int, ...)

-- Worker: claim the next batch of due jobs in a queue ($1 = queue name).
SELECT id, kind, payload
FROM jobs
WHERE queue = $1
  AND status = 'pending'
  AND run_at <= now()
ORDER BY run_at
LIMIT 10
FOR UPDATE;

-- Retry sweeper: reschedule failed jobs that still have attempts left.
SELECT id, attempts
FROM jobs
WHERE status = 'failed'
  AND attempts < 5
FOR UPDATE;

-- Worker: mark a job finished ($1 = job id).
UPDATE jobs
SET status = 'done', finished_at = now()
WHERE id = $1;

-- Ops dashboard: how many jobs are not finished yet.
SELECT count(*) AS unfinished
FROM jobs
WHERE status <> 'done';

-- Worker: heartbeat, lock my own job row while updating progress ($1 = job id).
SELECT id, progress
FROM jobs
WHERE id = $1
FOR NO KEY UPDATE;

-- Nightly maintenance: clear the job log before the new day starts.
DELETE FROM job_logs;
