"""What the tests share besides fixtures: small listings and params, a trained champion, a
project driven through its CLI, and the services started by PID (BigQuery emulator, Postgres,
Airflow's API)."""
