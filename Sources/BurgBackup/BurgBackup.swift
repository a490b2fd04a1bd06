// BurgBackup: consistent online backups, verification by restore, retention.
