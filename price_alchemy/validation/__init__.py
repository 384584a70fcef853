"""Validation: judge a snapshot's rows (row rules, quarantine with reasons), clean free text,
profile the clean rows and check the batch against the previous snapshot, and report it."""
