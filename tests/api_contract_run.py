"""The larger schemathesis run behind tests/functional/test_api_contract.py (not part of CI).

    .venv/bin/python tests/api_contract_run.py                  # demo data, ~5,000 requests
    .venv/bin/python tests/api_contract_run.py --examples 300   # longer

It copies the database and search indexes (instance/ by default) to a temporary directory,
issues an organisation API token there, serves the app with gunicorn as production does, and
runs `st run` with every check twice, without and with the token. It prints the cases and the
distinct failures of each run; the JSON reports and full output stay in --keep (if given).
`--source DIR` serves another copy of the code (e.g. an older commit from `git archive`), to
compare before and after a change with the same data, seed and settings.

Gunicorn refuses request lines over 4 KB with 414 before the app sees them (the document says
so); the config below counts that as rejecting bad data, as a 400 would be.
"""
import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "414", "415", "422",
                     "428", "429", "5xx"]
"""
ISSUE_TOKEN = """
from sqlalchemy import select
from portal import create_app
from portal.accounts.models import User
from portal.api.services import issue_token
from portal.extensions import db
from portal.organisations.models import Organisation

app = create_app()
with app.test_request_context():
    admin = db.session.scalars(select(User).join(User.organisation).where(
        User.org_role == "admin", Organisation.status == "active",
        Organisation.org_type == "vcse").order_by(User.id)).first()
    print(issue_token(admin, "schemathesis")[1])
"""


def main():
    args = _arguments()
    with tempfile.TemporaryDirectory(prefix="pathfinder-st-") as work:
        work = Path(args.keep or work)
        work.mkdir(parents=True, exist_ok=True)
        env = _copy_instance(Path(args.instance), work)
        token = _python(ISSUE_TOKEN, env, args.source).strip().splitlines()[-1]
        callers = {"anonymous": [], "token": ["-H", f"Authorization: Bearer {token}"]}
        with _served(env, args.source, args.port) as base:
            results = {name: _schemathesis(base, work, name, headers, args)
                       for name, headers in callers.items()}
    _print(results)
    return 1 if any(r["failures"] for r in results.values()) else 0


def _arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instance", default=str(ROOT / "instance"),
                        help="directory holding pathfinder.db, search/ and search-opportunities/")
    parser.add_argument("--source", default=str(ROOT), help="the code to serve")
    parser.add_argument("--examples", type=int, default=100, help="max examples per operation")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--keep", help="a directory to keep the copies, reports and output in")
    return parser.parse_args()


def _copy_instance(instance, work):
    shutil.copy(instance / "pathfinder.db", work / "pathfinder.db")
    for name in ("search", "search-opportunities"):
        if (instance / name).is_dir():
            shutil.copytree(instance / name, work / name, dirs_exist_ok=True)
    (work / "schemathesis.toml").write_text(CONFIG)
    return {**os.environ, "DATABASE_URL": f"sqlite:///{work / 'pathfinder.db'}",
            "SEARCH_INDEX_DIR": str(work / "search"), "PORTAL_ENV": "development",
            "PIPELINE_UPLOAD_DIR": str(work / "uploads")}


def _python(code, env, source):
    return subprocess.run([str(BIN / "python"), "-c", code], env={**env, "PYTHONPATH": source},
                          cwd=source, check=True, capture_output=True, text=True).stdout


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _served(env, source, port):
    port = port or _free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b",
                               f"127.0.0.1:{port}", "wsgi:app"], cwd=source, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base + "/healthz")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _schemathesis(base, work, name, headers, args):
    report = work / f"{name}.json"
    command = [str(BIN / "st"), "--config-file", str(work / "schemathesis.toml"), "run",
               f"{base}/api/v1/openapi.json", "--checks", "all", "--max-examples",
               str(args.examples), "--seed", str(args.seed), "--workers", "2",
               "--continue-on-failure", "--generation-database", "none", "--no-color",
               "--report", "json",
               "--report-json-path", str(report), *headers]
    output = subprocess.run(command, capture_output=True, text=True, cwd=work)
    (work / f"{name}.txt").write_text(output.stdout + output.stderr)
    data = json.loads(report.read_text())
    return {"cases": data["test_cases"]["generated"],
            "failures": data["test_cases"]["unique_failures"],
            "kinds": {f"{f['code']} {f['title']}": f["count"] for f in data["failures"]},
            "seconds": round(data["running_time"])}


def _print(results):
    for name, result in results.items():
        print(f"{name}: {result['cases']} cases, {result['failures']} distinct failures "
              f"in {result['seconds']} s")
        for kind, count in result["kinds"].items():
            print(f"    {kind}: {count}")
    total = sum(r["cases"] for r in results.values())
    failures = sum(r["failures"] for r in results.values())
    print(f"total: {total} cases, {failures} distinct failures")


if __name__ == "__main__":
    sys.exit(main())
