import BurgStore

/// BurgJobs' tables live in the main store, so a job can be enqueued in the same transaction as the
/// record it concerns (both commit or neither does).
public enum JobSchema {
    public static let migrations: StoreMigrations = {
        var migrations = StoreMigrations()
        migrations.append("jobs.0001-queue") { db in
            try db.execute(sql: """
                CREATE TABLE _jobs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    kind TEXT NOT NULL,
                    args TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(args)),
                    queue TEXT NOT NULL DEFAULT 'default',
                    priority INTEGER NOT NULL DEFAULT 0,
                    state TEXT NOT NULL DEFAULT 'available'
                        CHECK (state IN ('available', 'running', 'succeeded', 'failed', 'cancelled', 'discarded')),
                    run_at REAL NOT NULL,
                    attempt INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL DEFAULT 5,
                    lease_until REAL,
                    heartbeat_at REAL,
                    worker TEXT,
                    progress_done INTEGER,
                    progress_total INTEGER,
                    progress_message TEXT,
                    result TEXT,
                    error TEXT,
                    unique_key TEXT,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    started_at REAL,
                    finished_at REAL
                );
                CREATE INDEX _jobs_claim ON _jobs (queue, priority DESC, run_at, id) WHERE state = 'available';
                CREATE INDEX _jobs_running ON _jobs (lease_until) WHERE state = 'running';
                CREATE INDEX _jobs_unique ON _jobs (kind, unique_key, created_at) WHERE unique_key IS NOT NULL;
                CREATE INDEX _jobs_state_finished ON _jobs (state, finished_at);
                CREATE TABLE _job_schedules (
                    name TEXT PRIMARY KEY NOT NULL,
                    cron TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    args TEXT NOT NULL DEFAULT '{}',
                    queue TEXT NOT NULL DEFAULT 'default',
                    missed TEXT NOT NULL DEFAULT 'once' CHECK (missed IN ('once', 'all', 'skip')),
                    next_slot REAL NOT NULL
                );
                CREATE TABLE _job_schedule_fires (
                    name TEXT NOT NULL,
                    slot REAL NOT NULL,
                    job_id INTEGER NOT NULL,
                    PRIMARY KEY (name, slot)
                );
                """)
        }
        return migrations
    }()
}
