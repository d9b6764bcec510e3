"""A real PostgreSQL for the tests: Debian's server binaries, a throwaway data folder, a loopback
port, trust authentication for one role, started and stopped by the test session itself (by
its own pid file, never by a process name).

initdb refuses to run as root, so the cluster belongs to the `postgres` system user that
Debian's package creates; the tests connect over TCP on 127.0.0.1 only."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port, wait_for_port

ROLE = "cgbot"


def server_binaries() -> Path | None:
    """The newest installed server's bin folder (postgresql-15 on Debian 12)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@dataclass
class Postgres:
    root: Path
    port: int
    bin: Path
    _databases: int = 0
    _owner: str = field(default="postgres")

    def url(self, database: str) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{database}"

    def _as_owner(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", self._owner, "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=False)

    def psql(self, sql: str, database: str = "postgres") -> str:
        done = subprocess.run(
            [str(self.bin / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", ROLE,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"psql {sql!r}: {done.stderr}")
        return done.stdout

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        self._databases += 1
        name = f"cg_{os.getpid()}_{self._databases}"
        self.psql(f'CREATE DATABASE "{name}" OWNER {ROLE}')
        return self.url(name)

    def stop(self) -> None:
        pid_file = self.root / "data" / "postmaster.pid"
        if not pid_file.exists():
            return
        pid = int(pid_file.read_text().split()[0])
        try:
            os.kill(pid, signal.SIGINT)  # "fast" shutdown
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)


def start_postgres(root: Path) -> Postgres:
    bin_dir = server_binaries()
    if bin_dir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    root.mkdir(parents=True, exist_ok=True)
    data, sockets = root / "data", root / "run"
    server = Postgres(root, free_port(), bin_dir)
    owner = pwd.getpwnam(server._owner) if os.geteuid() == 0 else None
    for folder in (root, sockets):
        folder.mkdir(exist_ok=True)
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
    done = server._as_owner(
        str(bin_dir / "initdb"), "-D", str(data), "-U", ROLE, "--auth=trust",
        "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"initdb failed: {done.stderr}")
    options = (
        f"-p {server.port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c max_connections=200"
    )
    done = server._as_owner(
        str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
        "-w", "start",
    )  # fmt: skip
    if done.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        raise RuntimeError(f"PostgreSQL did not start: {done.stderr}\n{log[-2000:]}")
    wait_for_port(server.port)
    return server


def remove(server: Postgres) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)
