-- Background job queue, written well: workers claim small batches with SKIP LOCKED,
-- so each one takes jobs nobody else holds and none of them wait.
-- Index: CREATE INDEX ON jobs (queue, run_at) WHERE status = 'pending'.

-- Worker: claim and mark up to 10 due jobs in one statement ($1 = queue name).
UPDATE jobs
SET status = 'running', started_at = now(), attempts = attempts + 1
WHERE id IN (
  SELECT id
  FROM jobs
  WHERE queue = $1
    AND status = 'pending'
    AND run_at <= now()
  ORDER BY run_at
  LIMIT 10
  FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload;

-- Retry sweeper: reschedule failed jobs in batches of 100.
SELECT id, attempts
FROM jobs
WHERE status = 'failed'
  AND attempts < 5
ORDER BY id
LIMIT 100
FOR UPDATE SKIP LOCKED;

-- Worker: mark a job finished ($1 = job id).
UPDATE jobs
SET status = 'done', finished_at = now()
WHERE id = $1;

-- Ops dashboard: unfinished jobs, counted from the states they can be in.
SELECT count(*) AS unfinished
FROM jobs
WHERE status IN ('pending', 'running', 'failed');

-- Worker: heartbeat, lock my own job row while updating progress ($1 = job id).
SELECT id, progress
FROM jobs
WHERE id = $1
FOR NO KEY UPDATE;

-- Nightly maintenance: drop job log entries older than the 30 days we keep.
DELETE FROM job_logs
WHERE created_at < now() - interval '30 days';
