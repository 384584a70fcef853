"""Data: the listings warehouse (DuckDB by default, BigQuery by settings) and its Google client
and credentials, loading files into it, extracting a window of it into a snapshot, and the
prediction log's stores (sqlite, Postgres, BigQuery). Depends on the core modules only."""
