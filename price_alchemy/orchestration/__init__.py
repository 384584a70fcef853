"""Orchestration: Airflow's environment for this project, its local services, and what the DAG
files share (form fields, the run's window, the failure policy of a task)."""
