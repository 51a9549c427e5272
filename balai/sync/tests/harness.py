"""Two real processes for the sync tests and benches: the regency served by
gunicorn on PostgreSQL, a kecamatan node on SQLite, talking HTTP on
127.0.0.1. Each pair gets its own database (CREATE DATABASE sync_test_...,
cloned from a migrated, set-up template) and drops it afterwards.

Needs BALAI_CI_PG_URL (postgres://user@host:port/db, a superuser).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
NODE = "64.02.12"
SECRET = "sync-test-secret-key-not-for-production"


def pg_url() -> str | None:
    return os.environ.get("BALAI_CI_PG_URL") or None


def _with_db(url: str, name: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def admin_connection(url: str) -> psycopg.Connection:
    return psycopg.connect(_with_db(url, "postgres"), autocommit=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted((ROOT / "balai").glob("*/migrations/*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for name in ("testing.py",):
        digest.update((ROOT / "balai" / "sync" / name).read_bytes())
    return digest.hexdigest()[:12]


class Side:
    """One Balai installation: its environment and data folder."""

    def __init__(self, name: str, data_dir: Path, env: dict[str, str]) -> None:
        self.name, self.data_dir = name, data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BALAI_")},
            "DJANGO_SETTINGS_MODULE": "balai.settings",
            "BALAI_DATA_DIR": str(data_dir),
            "BALAI_SECRET_KEY": SECRET,
            "BALAI_DEMO": "1",
            "BALAI_NUMBERS": "local",
            "BALAI_LOG_LEVEL": "WARNING",
            "PYTHONHASHSEED": "0",
            **env,
        }
        self.env.pop("DATABASE_URL", None)
        if "DATABASE_URL" in env:
            self.env["DATABASE_URL"] = env["DATABASE_URL"]

    def run(
        self,
        *args: str,
        check: bool = True,
        timeout: float = 600,
        env: dict | None = None,
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [PYTHON, "-m", "balai.manage", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{self.name}: balai {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def popen(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [PYTHON, "-m", "balai.manage", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def tool(self, *args: str, timeout: float = 600, env: dict | None = None) -> Any:
        result = subprocess.run(
            [PYTHON, "-m", "balai.sync.testing", *args],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            what = " ".join(args)
            raise RuntimeError(
                f"{self.name}: testing {what} failed:\n{result.stderr[-6000:]}"
            )
        return json.loads(result.stdout.strip().splitlines()[-1])


class Template:
    """A migrated regency database set up for one node, with its data folder
    and the node's credential; and a migrated empty node database."""

    def __init__(self, url: str, base: Path) -> None:
        self.url = url
        key = _migrations_digest()
        # One template per run folder: two runs on one server never share it.
        where = hashlib.sha256(str(base.resolve()).encode()).hexdigest()[:8]
        self.db = f"sync_tpl_{key}_{where}"
        self.dir = base / f"template-{key}"

    def ensure(self) -> None:
        ready = self.dir / "ready"
        with admin_connection(self.url) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [self.db]
            ).fetchone()
        if exists and ready.exists():
            return
        if self.dir.exists():
            shutil.rmtree(self.dir)
        with admin_connection(self.url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.db}"')
            conn.execute(f'CREATE DATABASE "{self.db}"')
        regency = Side(
            "regency",
            self.dir / "regency",
            {
                "BALAI_NODE": "regency",
                "DATABASE_URL": _with_db(self.url, self.db),
                "BALAI_KECAMATAN_NODES": NODE,
            },
        )
        regency.run("migrate", "--noinput")
        regency.tool("regency-setup", "--credential", str(self.dir / "credential.json"))
        node = Side("node", self.dir / "node", {"BALAI_NODE": NODE})
        node.run("migrate", "--noinput")
        # The node's letter key and the root's public key, as an
        # administrator copies them (balai keys_issue_node).
        source = self.dir / "regency" / "var-keys"
        documents = Path(regency.data_dir) / "keys" / "documents"
        target = Path(node.data_dir) / "keys" / "documents"
        (target / "nodes").mkdir(parents=True, exist_ok=True)
        shutil.copy(documents / "root.pub", target / "root.pub")
        shutil.copytree(documents / "nodes" / NODE, target / "nodes" / NODE)
        del source
        ready.write_text("ok")


class Pair:
    """A regency (gunicorn, PostgreSQL) and a node (SQLite) for one test."""

    def __init__(self, url: str, base: Path, *, template: Template) -> None:
        self.url = url
        self.name = f"sync_test_{uuid.uuid4().hex[:10]}"
        self.dir = base / self.name
        self.template = template
        self.port = free_port()
        self.server: subprocess.Popen | None = None
        shutil.copytree(template.dir / "regency", self.dir / "regency")
        shutil.copytree(template.dir / "node", self.dir / "node")
        shutil.copy(template.dir / "credential.json", self.dir / "credential.json")
        with admin_connection(url) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}" TEMPLATE "{template.db}"')
        self.regency = Side(
            "regency",
            self.dir / "regency",
            {
                "BALAI_NODE": "regency",
                "DATABASE_URL": _with_db(url, self.name),
                "BALAI_KECAMATAN_NODES": NODE,
            },
        )
        self.node = Side("node", self.dir / "node", {"BALAI_NODE": NODE})
        self.regency_url = f"http://127.0.0.1:{self.port}"

    # the regency server
    def start(self, *, workers: int = 2) -> None:
        log = (self.dir / "gunicorn.log").open("ab")
        self.server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "gunicorn",
                "balai.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(workers),
                "--timeout",
                "300",
                "--graceful-timeout",
                "2",
            ],
            cwd=ROOT,
            env=self.regency.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(
                    self.regency_url + "/api/v1/sync/time", timeout=2
                ):
                    return
            except OSError:
                if self.server.poll() is not None:
                    raise RuntimeError("gunicorn exited:\n" + self.log_tail()) from None
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start:\n" + self.log_tail())

    def log_tail(self) -> str:
        path = self.dir / "gunicorn.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def kill_server(self) -> None:
        """kill -9 of the regency (every gunicorn process)."""
        if self.server is not None and self.server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGKILL)
            self.server.wait(timeout=30)
        self.server = None

    def stop_server(self) -> None:
        if self.server is not None and self.server.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill_server()
        self.server = None

    def init_node(self) -> None:
        self.node.run(
            "node_init",
            "--regency",
            self.regency_url,
            "--node",
            NODE,
            "--credential",
            str(self.dir / "credential.json"),
        )

    def sync(
        self, *, check: bool = True, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        return self.node.run("sync", check=check, env=env)

    def sync_until_quiet(self, *, rounds: int = 6) -> None:
        """Sync until a round neither pushes nor pulls anything."""
        for _n in range(rounds):
            out = self.sync().stdout
            if "dikirim 0 perubahan" in out and "diterima 0 perubahan" in out:
                return
        raise RuntimeError("sync did not settle:\n" + out)

    def fingerprints(self) -> tuple[dict, dict]:
        return self.regency.tool("fingerprint"), self.node.tool("fingerprint")

    def close(self, *, keep: bool = False) -> None:
        self.stop_server()
        with contextlib.suppress(Exception), admin_connection(self.url) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s",
                [self.name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def diverged(regency: dict, node: dict) -> list[str]:
    return sorted(
        label
        for label in set(regency) | set(node)
        if regency.get(label) != node.get(label)
    )


@contextlib.contextmanager
def pair(base: Path) -> Iterator[Pair]:
    url = pg_url()
    assert url, "BALAI_CI_PG_URL is not set"
    template = Template(url, base)
    template.ensure()
    p = Pair(url, base, template=template)
    try:
        yield p
    finally:
        p.close()


# --- checks shared by the tests and the fault bench ------------------------------

DOUBLED_SQL = """
    SELECT count(*) FROM (
        SELECT model, object_id, md5(payload::text) FROM core_changerecord
        WHERE node = %s GROUP BY 1, 2, 3 HAVING count(*) > 1
    ) d
"""


def doubled_at_regency(p: Pair, node: str = NODE) -> int:
    """Changes of the node stored twice at the regency (same record, same
    content, two numbers): what a replayed batch taken for new would leave."""
    import psycopg

    with psycopg.connect(_with_db(p.url, p.name)) as conn:
        return conn.execute(DOUBLED_SQL, [node]).fetchone()[0]


def lost_between(p: Pair, labels: list[str]) -> dict[str, list[str]]:
    """Ids the node holds that the regency does not (for the node's tables)."""
    return compare(p, labels)[1]


def compare(p: Pair, labels: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """(tables whose content differs, ids the node holds that the regency
    lacks): one call per side."""
    regency = p.regency.tool("check", *labels)
    node = p.node.tool("check", *labels)
    lost = {
        label: sorted(set(node["ids"][label]) - set(regency["ids"][label]))
        for label in labels
        if set(node["ids"][label]) - set(regency["ids"][label])
    }
    return diverged(regency["fingerprint"], node["fingerprint"]), lost


OWN_TABLES = [
    "registry.family",
    "registry.resident",
    "registry.lifeevent",
    "antrian.ticket",
    "antrian.ticketevent",
    "services.application",
    "services.applicationevent",
]


# --- a proxy that loses, doubles and reorders requests ----------------------------


class ChaosProxy:
    """An HTTP proxy between node and regency that misbehaves on purpose.

    Per request, with the probabilities set: drop it before the regency sees
    it; forward it and drop the answer (the regency acted, the node does not
    know); send it twice; or keep a copy and send it again before a later
    request (a duplicated, late, out-of-order batch).
    """

    def __init__(self, upstream_port: int, *, seed: int = 0) -> None:
        import random
        import threading

        self.upstream = upstream_port
        self.port = free_port()
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.drop_before = self.drop_after = self.duplicate = self.replay = 0.0
        self.kept: list[bytes] = []
        self.counts = {"dropped": 0, "lost_answers": 0, "doubled": 0, "replayed": 0}
        self._server = socket.socket()
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._server.bind(("127.0.0.1", self.port))
        self._server.listen(64)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def calm(self) -> None:
        self.drop_before = self.drop_after = self.duplicate = self.replay = 0.0

    def close(self) -> None:
        self._stop = True
        with contextlib.suppress(OSError):
            self._server.close()

    def _serve(self) -> None:
        import threading

        while not self._stop:
            try:
                client, _addr = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read_request(sock: socket.socket) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body

    def _forward(self, request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", self.upstream), timeout=300) as up:
            up.sendall(request)
            response = b""
            while True:
                chunk = up.recv(65536)
                if not chunk:
                    return response
                response += chunk

    def _handle(self, client: socket.socket) -> None:
        with client:
            try:
                request = self._read_request(client)
                if not request:
                    return
                is_push = request.startswith(b"POST /api/v1/sync/push")
                with self.lock:
                    roll = self.rng.random
                    drop_before = is_push and roll() < self.drop_before
                    drop_after = is_push and roll() < self.drop_after
                    twice = is_push and roll() < self.duplicate
                    keep = is_push and roll() < self.replay
                    late = self.kept.pop(0) if self.kept and roll() < 0.5 else None
                    if keep:
                        self.kept.append(request)
                if late is not None:
                    self.counts["replayed"] += 1
                    with contextlib.suppress(OSError):
                        self._forward(late)
                if drop_before:
                    self.counts["dropped"] += 1
                    return
                response = self._forward(request)
                if twice:
                    self.counts["doubled"] += 1
                    response = self._forward(request)
                if drop_after:
                    self.counts["lost_answers"] += 1
                    return
                client.sendall(response)
            except OSError:
                return


def acked_seq(p: Pair, conn: psycopg.Connection | None = None) -> int:
    """How far the regency holds the node's changes (its newest epoch and
    the contiguous number stored in it, as one count that only grows): to
    strike while a push is under way.

    Read at the regency, not from the node's file: once the bench had copied
    a backup over the node's database, reading that file from this process
    failed ("database disk image is malformed") while the node's own
    processes read it fine, so the count stood still and every later kill
    struck after the round.
    """
    if conn is None:
        with psycopg.connect(_with_db(p.url, p.name), autocommit=True) as own:
            return acked_seq(p, own)
    row = conn.execute(
        "SELECT epoch, high_seq FROM sync_syncnode WHERE name = %s", [NODE]
    ).fetchone()
    return int(row[0]) * 10**12 + int(row[1]) if row else 0


def wait_for_acks(p: Pair, running: subprocess.Popen, count: int) -> bool:
    """Wait until `count` more changes are acknowledged (True), or the round
    ends first (False)."""
    with psycopg.connect(_with_db(p.url, p.name), autocommit=True) as conn:
        start = acked_seq(p, conn)
        deadline = time.time() + 120
        while time.time() < deadline and running.poll() is None:
            if acked_seq(p, conn) - start >= count:
                return True
            time.sleep(0.02)
    return False
