"""`make stack-test`: the production path end to end on the stack of docker/compose.yaml.

1. Start the stack (scripts/stack_ctl.py up: every service healthy), on free loopback ports,
   with the schedules off (only what this test triggers runs) and the API polling the registry
   every 3 s. The API is up but not ready: no model is registered yet.
2. Load demo data into the warehouse in the shared state volume (`price-alchemy demo-data`, in a
   worker container): 20,000 listings and 2,000 live ones.
3. Trigger `price_alchemy_training` through Airflow's REST API (a JWT from /auth/token) and wait
   for it; its tasks must have run on both Celery workers (the hostnames of its task instances
   are the two worker containers'). The API must pick up version 1 as champion by itself.
4. Train again with `promote: force`: the API must swap to version 2 while running (same
   container start, no restart) and price with it.
5. Trigger `price_alchemy_repricing` through the REST API (it also runs on the champion asset
   the training DAG updates; one run at a time) and check its rows in `price_suggestions`: every
   live listing priced once by version 2, low <= price <= high.
6. Stop the stack (scripts/stack_ctl.py down): no container, pod, volume, network or process of
   it may be left. This happens whatever failed before, unless STACK_KEEP=1.

It refuses to start when any part of the stack exists (a stack of yours: `make stack-down`
first), except under CI=true, where it removes what a killed run left.

Exits non-zero on the first failed check, with the failed tasks' logs. Prints the timings.
Environment: STACK_KEEP=1 keeps the stack running afterwards; STACK_ROWS, STACK_ACTIVE (sizes).
"""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import stack_ctl

ROWS = int(os.environ.get("STACK_ROWS", "20000"))
ACTIVE = int(os.environ.get("STACK_ACTIVE", "2000"))
TRAINING, REPRICING = "price_alchemy_training", "price_alchemy_repricing"
RUN_TIMEOUT = 900
TIMINGS: dict[str, float] = {}


class Failed(Exception):
    """A check of the production path failed."""


def step(name: str):
    """Decorator: time the step under `name` and say when it is done."""

    def wrap(function: Callable):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            started = time.monotonic()
            result = function(*args, **kwargs)
            TIMINGS[name] = round(time.monotonic() - started, 1)
            print(f"stack-test: {name}: ok ({TIMINGS[name]:.0f} s)", flush=True)
            return result

        return timed

    return wrap


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def configure() -> dict[str, int]:
    """Free ports (unless set), no schedules, fast registry polling: into os.environ, which
    podman-compose reads over docker/.env."""
    ports = {}
    for name in ("API_PORT", "AIRFLOW_PORT", "MLFLOW_PORT"):
        os.environ.setdefault(name, str(free_port()))
        ports[name] = int(os.environ[name])
    for name in ("TRAINING_SCHEDULE", "MONITORING_SCHEDULE", "REPRICING_SCHEDULE"):
        os.environ[name] = "none"
    os.environ.setdefault("MODEL_POLL_SECONDS", "3")
    return ports


def wait_for(what: str, check: Callable[[], object], timeout: float, every: float = 2) -> object:
    """The first truthy value of check() within `timeout` s; Failed naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except (httpx.HTTPError, OSError) as error:
            last = repr(error)
        time.sleep(every)
    raise Failed(f"{what}: not within {timeout:.0f} s (last: {last})")


# ---- the API ----


class Api:
    def __init__(self, port: int):
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)

    def model_version(self) -> str | None:
        response = self.http.get("/v1/model")
        return response.json()["version"] if response.status_code == 200 else None

    def suggest(self) -> dict:
        listing = {"name": "Apple iPhone 128GB", "item_condition_id": 2, "shipping": 1}
        response = self.http.post("/v1/price-suggestions", json={"listings": [listing]})
        if response.status_code != 200:
            raise Failed(f"POST /v1/price-suggestions: {response.status_code} {response.text}")
        return response.json()


# ---- Airflow's REST API ----


class Airflow:
    def __init__(self, port: int, user: str, password: str):
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/auth/token", json={"username": user, "password": password}, timeout=30
        )
        if token.status_code not in (200, 201):
            raise Failed(f"POST /auth/token: {token.status_code} {token.text}")
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        self.http = httpx.Client(base_url=f"{base}/api/v2", headers=headers, timeout=30)

    def get(self, path: str, **params) -> dict:
        return self.http.get(path, params=params).raise_for_status().json()

    def trigger(self, dag_id: str, conf: dict) -> str:
        body = {"logical_date": datetime.now(UTC).isoformat(), "conf": conf}
        response = self.http.post(f"/dags/{dag_id}/dagRuns", json=body)
        if response.is_error:
            raise Failed(f"trigger {dag_id}: {response.status_code} {response.text}")
        return response.json()["dag_run_id"]

    def tasks(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]

    def active_runs(self, dag_id: str) -> list[str]:
        runs = self.get(f"/dags/{dag_id}/dagRuns", limit=100)["dag_runs"]
        return [run["dag_run_id"] for run in runs if run["state"] in ("queued", "running")]

    def wait_success(self, dag_id: str, run_id: str) -> None:
        """Block until the run finishes; Failed with each failed task's log tail unless it
        succeeded."""

        def finished():
            state = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        if wait_for(f"{dag_id} {run_id}", finished, RUN_TIMEOUT, every=3) == "success":
            return
        failed = [t for t in self.tasks(dag_id, run_id) if t["state"] != "success"]
        logs = "\n".join(f"--- {t['task_id']}: {t['state']}\n{self.log_tail(t)}" for t in failed)
        raise Failed(f"{dag_id} {run_id} failed:\n{logs}")

    def log_tail(self, task: dict, lines: int = 30) -> str:
        run = f"/dags/{task['dag_id']}/dagRuns/{task['dag_run_id']}"
        response = self.http.get(
            f"{run}/taskInstances/{task['task_id']}/logs/{max(task['try_number'], 1)}"
        )
        if response.is_error:
            return f"(no log: {response.status_code})"
        content = response.json().get("content", [])
        entries = content if isinstance(content, list) else [content]
        text = [
            " ".join(str(e.get(k, "")) for k in ("level", "event", "error_detail"))
            if isinstance(e, dict)
            else str(e)
            for e in entries
        ]
        return "\n".join(text[-lines:])


# ---- the steps ----


def podman_exec(container: str, *command: str, timeout: float = 300) -> str:
    done = stack_ctl.podman("exec", container, *command, timeout=timeout)
    if done.returncode != 0:
        raise Failed(f"podman exec {container} {' '.join(command)}:\n{done.stdout}{done.stderr}")
    return done.stdout


def worker_hostnames() -> dict[str, str]:
    """hostname -> container name of each Celery worker."""
    names = stack_ctl.containers("airflow-worker", all_states=False)
    return {podman_exec(name, "hostname").strip(): name for name in names}


def started_at(container: str) -> str:
    fmt = "{{.State.StartedAt}} restarts={{.RestartCount}}"
    return stack_ctl.podman("inspect", "--format", fmt, container).stdout.strip()


@step("stack up, every service healthy")
def start() -> None:
    stack_ctl.up()


@step("API up without a model")
def api_not_ready(api: Api) -> None:
    if api.http.get("/healthz").status_code != 200:
        raise Failed("/healthz is not 200")
    ready = api.http.get("/readyz")
    if ready.status_code != 503 or api.model_version() is not None:
        raise Failed(f"a model is served before any training: {ready.status_code} {ready.text}")


@step("demo data loaded")
def load_data(worker: str) -> None:
    out = podman_exec(
        worker, "price-alchemy", "demo-data", "--rows", str(ROWS), "--active", str(ACTIVE)
    )
    print("  " + out.strip().replace("\n", "\n  "))


@step("DAGs parsed")
def wait_for_dags(airflow: Airflow) -> None:
    def parsed():
        found = {dag["dag_id"] for dag in airflow.get("/dags", limit=100)["dags"]}
        return {TRAINING, REPRICING} <= found

    wait_for("the DAG processor parsing the DAGs", parsed, 180)


@step("training run 1 on both workers")
def train_on_both_workers(airflow: Airflow) -> None:
    run_id = airflow.trigger(TRAINING, {"max_evals": 0, "reason": "stack-test"})
    airflow.wait_success(TRAINING, run_id)
    workers = worker_hostnames()
    ran_on = {task["task_id"]: task["hostname"] for task in airflow.tasks(TRAINING, run_id)}
    print(f"  {run_id}: " + ", ".join(f"{t} on {workers.get(h, h)}" for t, h in ran_on.items()))
    strangers = {host for host in ran_on.values() if host not in workers}
    if strangers:
        raise Failed(f"tasks ran outside the workers {sorted(workers)}: {sorted(strangers)}")
    if len(set(ran_on.values())) < 2:
        raise Failed(f"every task ran on one worker: {ran_on}")


def serves(api: Api, version: str) -> None:
    """Block until the API serves `version` by itself (it polls the registry), then price."""
    wait_for(f"the API serving version {version}", lambda: api.model_version() == version, 120)
    answer = api.suggest()
    if answer["model_version"] != version or not answer["suggestions"][0]["price"] > 0:
        raise Failed(f"the API priced with {answer['model_version']}, not {version}: {answer}")


@step("API picked up champion v1")
def api_serves_first(api: Api) -> None:
    serves(api, "1")


@step("training run 2 (promote: force)")
def train_again(airflow: Airflow) -> None:
    conf = {"max_evals": 0, "promote": "force", "reason": "stack-test hot swap"}
    airflow.wait_success(TRAINING, airflow.trigger(TRAINING, conf))


@step("API hot-swapped to champion v2")
def api_swaps(api: Api, container: str, before: str) -> None:
    serves(api, "2")
    if started_at(container) != before:
        raise Failed(f"the API container restarted: {before} -> {started_at(container)}")


@step("re-pricing run wrote its suggestions")
def reprice(airflow: Airflow, worker: str) -> None:
    wait_for(
        "asset-triggered re-pricing runs to finish",
        lambda: not airflow.active_runs(REPRICING),
        RUN_TIMEOUT,
        every=3,
    )
    run_id = airflow.trigger(REPRICING, {})
    airflow.wait_success(REPRICING, run_id)
    query = (
        "import duckdb, json, sys; "
        "db = duckdb.connect('/var/lib/price-alchemy/warehouse.duckdb', read_only=True); "
        "print(json.dumps(db.execute('SELECT count(*), count(DISTINCT listing_id), "
        "list(DISTINCT model_version), count_if(NOT (low <= price AND price <= high)) "
        "FROM price_suggestions WHERE run_id = ?', [sys.argv[1]]).fetchone()))"
    )
    rows, listings, versions, outside = json.loads(
        podman_exec(worker, "python", "-c", query, run_id)
    )
    print(f"  {run_id}: {rows} suggestions, {listings} listings, model versions {versions}")
    if rows != ACTIVE or listings != ACTIVE or versions != ["2"] or outside:
        raise Failed(
            f"price_suggestions of {run_id}: {rows} rows for {ACTIVE} live listings,"
            f" versions {versions}, {outside} prices outside their range"
        )


@step("stack down, nothing left")
def stop() -> None:
    if stack_ctl.down() != 0:
        raise Failed("stack-down left parts of the stack behind")


def production_path(ports: dict[str, int]) -> None:
    start()
    api = Api(ports["API_PORT"])
    api_not_ready(api)
    worker = stack_ctl.containers("airflow-worker", all_states=False)[0]
    load_data(worker)
    env = stack_ctl.read_env() | dict(os.environ)
    airflow = Airflow(
        ports["AIRFLOW_PORT"], env.get("AIRFLOW_ADMIN_USER", "admin"), env["AIRFLOW_ADMIN_PASSWORD"]
    )
    wait_for_dags(airflow)
    train_on_both_workers(airflow)
    api_serves_first(api)
    (api_container,) = stack_ctl.containers("api", all_states=False)
    before = started_at(api_container)
    train_again(airflow)
    api_swaps(api, api_container, before)
    reprice(airflow, worker)


def main() -> int:
    left = stack_ctl.leftovers()
    if left and os.environ.get("CI") == "true":  # a run that was killed: start clean
        print(f"stack-test: removing what an earlier run left: {', '.join(left)}")
        stack_ctl.down()
    elif left:
        print(
            f"stack-test: the stack (or part of it) exists: {', '.join(left)}; `make stack-down`"
            " first (it deletes its volumes)",
            file=sys.stderr,
        )
        return 2
    ports = configure()
    started = time.monotonic()
    failure = None
    try:
        production_path(ports)
    except (Failed, SystemExit, httpx.HTTPError) as error:
        failure = error
    finally:
        if os.environ.get("STACK_KEEP") == "1":
            print("stack-test: STACK_KEEP=1: the stack keeps running (make stack-down)")
        else:
            try:
                stop()
            except Failed as error:
                failure = failure or error
    TIMINGS["total"] = round(time.monotonic() - started, 1)
    print(f"stack-test timings (s): {json.dumps(TIMINGS)}")
    if failure is not None:
        print(f"stack-test: FAILED: {failure}", file=sys.stderr)
        return 1
    print("stack-test: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
