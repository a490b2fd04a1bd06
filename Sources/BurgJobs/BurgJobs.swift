// BurgJobs: the durable job queue, workers, supervisor and schedules.
