-- Issue 10: abuse limits that hold across instances. One counter per action
-- ("bucket"), subject (an address, a user) and fixed window (its start, in
-- Unix seconds); old windows are purged hourly.
CREATE TABLE rate_counts (
    bucket       TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    window_start INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (bucket, subject, window_start)
);
