"""Start the BigQuery emulator (PyPI `bqemulator`) offline, on loopback only.

Run it with the emulator's own venv (see scripts/install_bqemulator.sh), never with .venv:

    .venv-bqemulator/bin/python scripts/run_bqemulator.py --rest-port 9050 --grpc-port 9060

bqemulator 1.4.0 installs and loads DuckDB extensions (spatial, avro) from the DuckDB extension
repository at start-up and aborts when it cannot reach it. This launcher, before starting it:

* turns `DuckDBEngine._load_spatial` and `DuckDBEngine._load_format_extensions` into no-ops
  (patching only those that exist); so GEOGRAPHY / ST_* functions and DuckDB's Avro reader
  are unavailable;
* makes every DuckDB connection it opens unable to download anything: automatic extension
  install is off and the extension repository is a local directory that does not exist, so
  any INSTALL fails at once instead of reaching for the network;
* ignores BQEMU_* environment variables, so nothing can rebind it off loopback or turn on
  OTLP trace export.

It fails loudly (exit 2) if the emulator's entry points (`bqemulator.config.Settings`,
`bqemulator.server.run_forever`, `bqemulator.storage.engine.DuckDBEngine`) have moved.
SIGTERM / SIGINT stop it cleanly.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys

HOST = "127.0.0.1"
PATCHED_NO_OPS = ("_load_spatial", "_load_format_extensions")
OFFLINE_DUCKDB_CONFIG = {
    "autoinstall_known_extensions": False,
    "custom_extension_repository": "/nonexistent/bqemulator-offline-extensions",
}


def _fail(message: str) -> None:
    print(f"bqemulator launcher: {message}", file=sys.stderr, flush=True)
    raise SystemExit(2)


def _require(module_name: str, attribute: str):
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        _fail(f"cannot import {module_name} ({exc}); is this the .venv-bqemulator python?")
    if not hasattr(module, attribute):
        _fail(f"{module_name}.{attribute} not found: the bqemulator entry point moved")
    return getattr(module, attribute)


def _no_op(self) -> None:  # replaces the extension loaders
    return None


def patch_offline() -> list[str]:
    """Apply the offline patches; returns the names of the methods turned into no-ops."""
    import duckdb

    engine_cls = _require("bqemulator.storage.engine", "DuckDBEngine")
    patched = []
    for name in PATCHED_NO_OPS:
        if callable(getattr(engine_cls, name, None)):
            setattr(engine_cls, name, _no_op)
            patched.append(name)
    if not patched:
        _fail(
            f"none of DuckDBEngine.{PATCHED_NO_OPS} exist: the extension loading moved; "
            "find it in bqemulator/storage/engine.py and update this launcher"
        )

    original_connect = duckdb.connect
    if getattr(original_connect, "_bqemulator_offline", False):
        return patched

    @functools.wraps(original_connect)
    def offline_connect(*args, **kwargs):
        config = dict(OFFLINE_DUCKDB_CONFIG)
        config.update(kwargs.pop("config", None) or {})
        return original_connect(*args, config=config, **kwargs)

    offline_connect._bqemulator_offline = True
    duckdb.connect = offline_connect
    return patched


def _quiet_import_logging(level: str) -> None:
    """Apply --log-level before bqemulator is imported (it logs at import, at debug level);
    the server configures its own logging again when it starts."""
    try:
        import logging

        import structlog
    except ImportError:
        return
    threshold = getattr(logging, level.upper())
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(threshold))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rest-port", type=int, required=True, help="REST port on 127.0.0.1")
    parser.add_argument("--grpc-port", type=int, required=True, help="gRPC port on 127.0.0.1")
    parser.add_argument("--project", default="test-project", help="default project id")
    parser.add_argument(
        "--log-level", default="warning", choices=["debug", "info", "warning", "error"]
    )
    args = parser.parse_args(argv)
    for flag in ("rest_port", "grpc_port"):
        if not 0 < getattr(args, flag) < 65536:
            parser.error(f"--{flag.replace('_', '-')} must be a port number (1-65535)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    for key in [k for k in os.environ if k.upper().startswith("BQEMU_")]:
        del os.environ[key]
    _quiet_import_logging(args.log_level)

    settings_cls = _require("bqemulator.config", "Settings")
    run_forever = _require("bqemulator.server", "run_forever")
    fields = getattr(settings_cls, "model_fields", {})
    wanted = {
        "rest_host": HOST,
        "rest_port": args.rest_port,
        "grpc_host": HOST,
        "grpc_port": args.grpc_port,
        "default_project_id": args.project,
        "persistence_mode": "ephemeral",
        "log_level": args.log_level,
        "enable_format_extensions": False,
        "tracing_enabled": False,
        "otlp_endpoint": None,
        "admin_enabled": False,
    }
    missing = [k for k in ("rest_host", "rest_port", "grpc_host", "grpc_port") if k not in fields]
    if missing:
        _fail(f"bqemulator Settings has no {missing}: the configuration API moved")
    settings = settings_cls(**{k: v for k, v in wanted.items() if k in fields})

    patched = patch_offline()
    print(
        f"bqemulator launcher: REST http://{HOST}:{args.rest_port} gRPC {HOST}:{args.grpc_port} "
        f"project={args.project} no-ops={','.join(patched)}",
        file=sys.stderr,
        flush=True,
    )
    run_forever(settings)


if __name__ == "__main__":
    main()
