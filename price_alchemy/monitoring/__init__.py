"""Monitoring: drift measures between the champion's training listings and a window, the checks
that turn them into reasons to retrain, and the report a person reads."""
