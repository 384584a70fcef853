"""Run the production stack (docker/compose.yaml) with podman-compose: env, up, status, down.

- `env` writes docker/.env (mode 0600, git-ignored) with fresh random secrets when it is missing,
  and adds any secret it lacks; existing values are kept (the Postgres volume holds the password
  it was made with).
- `up` starts the stack in dependency order and waits for every health check. podman-compose
  honours `service_healthy` only on podman 4.6+, and podman runs health checks on systemd timers,
  which these machines lack; so `up` starts one tier at a time and runs each container's health
  check itself (`podman healthcheck run`) until it passes: postgres and redis; then mlflow and the
  one-shot airflow-init (which must exit 0); then Airflow's services, the workers and the API.
- `status` runs every container's health check once and prints the table.
- `down` stops and removes the containers, the network and the volumes, then checks that nothing
  of the project is left: no container, pod, volume or network, no conmon or dnsmasq process.

podman-compose's output (it prints the commands it runs, secrets included) goes to
build/stack/compose.log (mode 0600), not to the terminal. Settings come from the environment
(API_PORT, AIRFLOW_PORT, MLFLOW_PORT, AIRFLOW_WORKERS, ...; see docker/README.md) over docker/.env.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker" / "compose.yaml"
ENV_FILE = ROOT / "docker" / ".env"
LOG = ROOT / "build" / "stack" / "compose.log"
PROJECT = "price-alchemy"
NETWORK = f"{PROJECT}_default"
TIERS = (  # (services, one-shot services that must exit 0 before the next tier)
    (("postgres", "redis"), ()),
    (("mlflow", "airflow-init"), ("airflow-init",)),
    (
        (
            "airflow-api-server",
            "airflow-scheduler",
            "airflow-dag-processor",
            "airflow-triggerer",
            "airflow-worker",
            "api",
        ),
        (),
    ),
)
SECRETS = {  # name -> how to make one; URL-safe, since some go into URLs
    "POSTGRES_PASSWORD": lambda: secrets.token_hex(24),
    "REDIS_PASSWORD": lambda: secrets.token_hex(24),
    "AIRFLOW_ADMIN_PASSWORD": lambda: secrets.token_hex(16),
    "AIRFLOW_JWT_SECRET": lambda: secrets.token_hex(48),
    "AIRFLOW_SECRET_KEY": lambda: secrets.token_hex(32),
    "AIRFLOW_FERNET_KEY": lambda: base64.urlsafe_b64encode(os.urandom(32)).decode(),
}
TIER_TIMEOUT = float(os.environ.get("STACK_TIER_TIMEOUT", "420"))


def podman_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CONTAINERS_CONF", str(ROOT / "scripts" / "containers.conf"))
    return env


def podman(*args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


def compose(*args: str, timeout: float = 900, env: dict[str, str] | None = None) -> None:
    """podman-compose ARGS on docker/compose.yaml, its output appended to the log."""
    binary = Path(sys.executable).with_name("podman-compose")
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with open(LOG, "a") as log:
        os.chmod(LOG, 0o600)
        log.write(f"\n$ podman-compose {' '.join(args)}\n")
        log.flush()
        done = subprocess.run(
            [str(binary), "-f", str(COMPOSE_FILE), *args],
            env=podman_env() | (env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"stack: podman-compose {' '.join(args)} failed (log: {LOG})")


# ---- env ----


def read_env(path: Path | None = None) -> dict[str, str]:
    values = {}
    path = path or ENV_FILE
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip()
    return values


def write_env() -> None:
    """docker/.env with every secret in SECRETS; existing values are kept."""
    existing = read_env()
    missing = [name for name in SECRETS if not existing.get(name)]
    if not missing:
        return
    header = "# Secrets of docker/compose.yaml, made by `make stack-up`. Never commit."
    lines = [] if ENV_FILE.exists() else [header]
    lines += [f"{name}={SECRETS[name]()}" for name in missing]
    fd = os.open(ENV_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as env_file:
        env_file.write("\n".join(lines) + "\n")
    os.chmod(ENV_FILE, 0o600)
    print(f"stack: wrote {', '.join(missing)} to {ENV_FILE}")


# ---- containers and their health ----


def containers(service: str | None = None, all_states: bool = True) -> list[str]:
    """Names of the project's containers (of one service), sorted."""
    args = [
        "ps",
        "--format",
        "{{.Names}}",
        "--filter",
        f"label=io.podman.compose.project={PROJECT}",
    ]
    if service:
        args += ["--filter", f"label=com.docker.compose.service={service}"]
    if all_states:
        args.append("--all")
    return sorted(podman(*args, check=True).stdout.split())


def state(name: str) -> tuple[str, int]:
    """(status, exit code) of a container."""
    out = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", name).stdout
    status, _, code = out.strip().partition(" ")
    return status, int(code or 0)


def has_healthcheck(name: str) -> bool:
    out = podman("inspect", "--format", "{{json .Config.Healthcheck}}", name).stdout.strip()
    return out not in ("", "null", "{}")


def healthy(name: str) -> bool:
    return podman("healthcheck", "run", name, timeout=90).returncode == 0


def logs_tail(name: str, lines: int = 40) -> str:
    done = podman("logs", "--tail", str(lines), name)
    return (done.stdout + done.stderr)[-5000:]


def wait_tier(services: tuple[str, ...], one_shots: tuple[str, ...], timeout: float) -> None:
    """Block until each long-running container of `services` passes its health check (or, with
    none, runs) and each one-shot has exited 0; exit with its logs if one stops or fails."""
    deadline = time.monotonic() + timeout
    pending = {name: service for service in services for name in containers(service)}
    while pending:
        for name, service in list(pending.items()):
            status, code = state(name)
            if service in one_shots:
                if status == "exited" and code == 0:
                    del pending[name]
                elif status == "exited":
                    raise SystemExit(f"stack: {name} exited {code}:\n{logs_tail(name)}")
                continue
            if status in ("exited", "stopped"):
                raise SystemExit(f"stack: {name} stopped (exit {code}):\n{logs_tail(name)}")
            if status == "running" and (not has_healthcheck(name) or healthy(name)):
                del pending[name]
        if pending and time.monotonic() > deadline:
            tails = "\n".join(f"--- {name}\n{logs_tail(name, 20)}" for name in pending)
            raise SystemExit(
                f"stack: not healthy after {timeout:.0f} s: {sorted(pending)}\n{tails}"
            )
        if pending:
            time.sleep(2)


def up() -> None:
    write_env()
    if not containers():
        remove_stale_network()
    started = time.monotonic()
    for services, one_shots in TIERS:
        tier = time.monotonic()
        compose("up", "--detach", "--no-build", "--no-deps", *services)
        wait_tier(services, one_shots, TIER_TIMEOUT)
        print(f"stack: {', '.join(services)} ready in {time.monotonic() - tier:.0f} s")
    print(f"stack: up and healthy in {time.monotonic() - started:.0f} s")
    print_endpoints()


def remove_stale_network() -> None:
    """A network left by an interrupted run may predate the DNS plugin: start from a new one."""
    if podman("network", "exists", NETWORK).returncode == 0:
        podman("network", "rm", NETWORK)


def print_endpoints() -> None:
    env = read_env() | dict(os.environ)
    user = env.get("AIRFLOW_ADMIN_USER", "admin")
    print(f"  API:     http://127.0.0.1:{env.get('API_PORT', '8000')}/docs")
    print(
        f"  Airflow: http://127.0.0.1:{env.get('AIRFLOW_PORT', '8080')}  (user {user},"
        " password AIRFLOW_ADMIN_PASSWORD in docker/.env)"
    )
    print(f"  MLflow:  http://127.0.0.1:{env.get('MLFLOW_PORT', '5000')}")


def status() -> int:
    names = containers()
    if not names:
        print("stack: not running")
        return 1
    bad = 0
    for name in names:
        state_, code = state(name)
        health = "-"
        if state_ == "running" and has_healthcheck(name):
            health = "healthy" if healthy(name) else "UNHEALTHY"
            bad += health != "healthy"
        print(
            f"  {name:42} {state_:8} {health}" + (f" (exit {code})" if state_ == "exited" else "")
        )
    return 1 if bad else 0


# ---- down and what it must leave ----


def leftovers() -> list[str]:
    """What of the project still exists: containers, pods, volumes, networks, processes."""
    found = [f"container {name}" for name in containers()]
    pods = podman("pod", "ps", "--format", "{{.Name}}").stdout.split()
    found += [f"pod {pod}" for pod in pods if PROJECT in pod]
    found += [f"volume {volume}" for volume in project_volumes()]
    if podman("network", "exists", NETWORK).returncode == 0:
        found.append(f"network {NETWORK}")
    found += [f"process {pid} ({cmd})" for pid, cmd in project_processes()]
    return found


def project_volumes() -> list[str]:
    """The project's volumes: labelled by compose, or named after the project."""
    label = f"label=io.podman.compose.project={PROJECT}"
    volumes = podman("volume", "ls", "--format", "{{.Name}}", "--filter", label).stdout.split()
    named = podman("volume", "ls", "--format", "{{.Name}}").stdout.split()
    return sorted(set(volumes) | {v for v in named if v.startswith(f"{PROJECT}_")})


def project_processes() -> list[tuple[int, str]]:
    """conmon processes of the project's containers and the DNS server of its network."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        program = os.path.basename(argv[0].decode(errors="replace"))
        text = b" ".join(argv).decode(errors="replace")
        if program in ("conmon", "dnsmasq") and (f"{PROJECT}_" in text or NETWORK in text):
            found.append((int(proc.name), text[:160]))
    return found


def down(check: bool = True) -> int:
    started = time.monotonic()
    # the file's required secrets must resolve, even without docker/.env (down needs no value),
    # and it must count every worker there is (AIRFLOW_WORKERS may have changed since `up`)
    known = read_env() | dict(os.environ)
    env = {name: "unused" for name in SECRETS if not known.get(name)}
    env["AIRFLOW_WORKERS"] = str(max(1, len(containers("airflow-worker"))))
    compose("down", "--volumes", "--timeout", "20", timeout=600, env=env)
    remove_rest()
    deadline = time.monotonic() + 30
    left = leftovers()
    while left and time.monotonic() < deadline:  # conmon and dnsmasq exit just after
        time.sleep(1)
        left = leftovers()
    if left and check:
        print("stack: down left:\n  " + "\n  ".join(left), file=sys.stderr)
        return 1
    print(
        f"stack: down in {time.monotonic() - started:.0f} s; no container, pod, volume,"
        " network or process of the project left"
    )
    return 0


def remove_rest() -> None:
    """What compose down did not know of (say, replicas added by `--scale`): the project's
    containers by label, then its volumes and network."""
    names = containers()
    if names:
        podman("rm", "--force", "--time", "20", *names, timeout=300)
    for volume in project_volumes():
        podman("volume", "rm", "--force", volume)
    if podman("network", "exists", NETWORK).returncode == 0:
        podman("network", "rm", NETWORK)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("env", "up", "status", "down", "leftovers"))
    command = parser.parse_args().command
    if command == "env":
        write_env()
    elif command == "up":
        up()
    elif command == "status":
        return status()
    elif command == "down":
        return down()
    elif command == "leftovers":
        left = leftovers()
        print("\n".join(left) or "nothing")
        return 1 if left else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
