"""A small client of Airflow's REST API v2 for the tests that drive a real scheduler.

The local stack runs with the simple auth manager and every user an admin, so a token from
`GET /auth/token` is all it takes; the client waits for DAGs to be parsed and for runs to finish,
and clears failed tasks the way a person does from the UI.
"""

import time

import httpx

FINISHED = {"success", "failed"}


class AirflowApi:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        token = httpx.get(f"{self.base}/auth/token", timeout=30).raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self.http = httpx.Client(base_url=f"{self.base}/api/v2", headers=headers, timeout=30)

    def get(self, path: str, **params) -> dict:
        return self.http.get(path, params=params).raise_for_status().json()

    def post(self, path: str, body: dict) -> dict:
        response = self.http.post(path, json=body)
        if response.is_error:
            raise AssertionError(f"POST {path}: {response.status_code} {response.text}")
        return response.json()

    def wait_for_dags(self, dag_ids: tuple[str, ...], timeout: float = 120) -> None:
        """Block until the DAG processor has parsed and serialized every DAG in `dag_ids`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = {dag["dag_id"] for dag in self.get("/dags", limit=100)["dags"]}
            if set(dag_ids) <= found:
                return
            time.sleep(1)
        raise TimeoutError(f"DAGs {dag_ids} not parsed within {timeout:.0f}s")

    def trigger(self, dag_id: str, conf: dict, logical_date: str | None = None) -> str:
        body = {"logical_date": logical_date, "conf": conf}
        return self.post(f"/dags/{dag_id}/dagRuns", body)["dag_run_id"]

    def run(self, dag_id: str, run_id: str) -> dict:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}")

    def runs(self, dag_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns", order_by="run_after")["dag_runs"]

    def task_durations(self, dag_id: str, run_id: str) -> dict[str, float | None]:
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["duration"] for ti in found}

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        found = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
        return {ti["task_id"]: ti["state"] for ti in found}

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Block until the run finishes; its final state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.run(dag_id, run_id)["state"]
            if state in FINISHED:
                return state
            time.sleep(2)
        states = self.task_states(dag_id, run_id)
        raise TimeoutError(f"{dag_id} {run_id} not finished after {timeout:.0f}s: {states}")

    def succeeded(self, dag_id: str, run_id: str, timeout: float) -> bool:
        """Block until the run finishes; True on success, else an AssertionError naming each
        failed task with the end of its log (what a person would open in the UI)."""
        if self.wait_for_run(dag_id, run_id, timeout) == "success":
            return True
        states = self.task_states(dag_id, run_id)
        failed = [task for task, state in states.items() if state in ("failed", "upstream_failed")]
        logs = "\n".join(f"--- {task}\n{self.log_tail(dag_id, run_id, task)}" for task in failed)
        raise AssertionError(f"{dag_id} {run_id} failed: {states}\n{logs}")

    def log_tail(self, dag_id: str, run_id: str, task_id: str, lines: int = 40) -> str:
        """The last `lines` lines of the task's latest try's log."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        tries = self.get(path)["try_number"]
        response = self.http.get(f"{path}/logs/{max(tries, 1)}", params={"full_content": True})
        if response.is_error:
            return f"(no log: {response.status_code})"
        content = response.json().get("content", [])
        text = [
            " ".join(str(entry.get(k, "")) for k in ("timestamp", "level", "event", "error_detail"))
            if isinstance(entry, dict)
            else str(entry)
            for entry in (content if isinstance(content, list) else [content])
        ]
        return "\n".join(text[-lines:])

    def clear(self, dag_id: str, run_id: str, only_failed: bool = True) -> None:
        """Clear the run's failed tasks (or all of them) and everything downstream of them, as
        the UI does: the scheduler runs them again in the same run."""
        body = {
            "dag_run_id": run_id,
            "only_failed": only_failed,
            "include_downstream": True,
            "dry_run": False,
            "reset_dag_runs": True,
        }
        self.post(f"/dags/{dag_id}/clearTaskInstances", body)

    def wait_for_task(self, dag_id: str, run_id: str, task_id: str, states: set, timeout: float):
        """Block until the task is in one of `states`; its state."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.task_states(dag_id, run_id).get(task_id)
            if state in states:
                return state
            time.sleep(2)
        found = self.task_states(dag_id, run_id)
        raise TimeoutError(f"{task_id} of {dag_id} {run_id} not in {states}: {found}")

    def answer(self, dag_id: str, run_id: str, task_id: str, option: str) -> dict:
        """Answer a human-in-the-loop task (an approval) as a person does under Required
        Actions."""
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/-1/hitlDetails"
        response = self.http.patch(path, json={"chosen_options": [option]})
        if response.is_error:
            raise AssertionError(f"PATCH {path}: {response.status_code} {response.text}")
        return response.json()
