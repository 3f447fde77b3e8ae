"""A Jenkins stand-in for the acceptance tests: the configuration-as-code endpoints, and nothing else.

  standin.py --casc-folder DIR --port 0 --ready-file FILE [--reload-token T] [--users users.json]
             [--user NAME:TOKEN:PERM[,PERM]]... [--variables vars.json] [--log FILE]

It serves (shared/reference/jenkins-api.md): `POST /reload-configuration-as-code/?casc-reload-token=T`
(404 without a configured token, 401 for a wrong one), `POST /configuration-as-code/reload` (MANAGE),
`POST /configuration-as-code/check` (ADMINISTER), `POST /configuration-as-code/export` and
`GET /configuration-as-code/schema` (SYSTEM_READ), with HTTP basic auth by user name and API token.
A reload reads the casc folder (casc_sources), checks the Kubernetes clouds (configurators) and
applies all of it or nothing. It applies the folder once at start-up, as Jenkins does at boot.

Test controls under `/_standin/` (loopback, no auth): `GET state`, `POST reject` {"count", "message"}
(the next reloads fail with that message), `POST slow` {"ms"} (every reload waits first).
Once listening it writes the ready file (JSON: url, port, pid). Logs never carry a token.
"""

import argparse
import base64
import hmac
import json
import logging
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from casc_sources import CascError, escape, interpolate, read_document, read_folder  # noqa: E402
from configurators import Catalog, Checker, json_schema  # noqa: E402

LOG = logging.getLogger("standin")
# Jenkins' permission implications: ADMINISTER ⊇ MANAGE ⊇ SYSTEM_READ ⊇ READ.
IMPLIES = {
    "ADMINISTER": {"ADMINISTER", "MANAGE", "SYSTEM_READ", "READ"},
    "MANAGE": {"MANAGE", "SYSTEM_READ", "READ"},
    "SYSTEM_READ": {"SYSTEM_READ", "READ"},
    "READ": {"READ"},
}


class Controller:
    """The live configuration and the reload machinery (thread-safe)."""

    def __init__(self, folder: Path, catalog: Catalog, variables: dict[str, str]):
        self.folder = folder
        self.checker = Checker(catalog)
        self.catalog = catalog
        self.variables = variables
        self.lock = threading.Lock()
        self.live: dict = {}
        self.reloads = 0  # reload requests that passed the token or permission check (not the boot apply)
        self.applied = 0
        self.failed = 0
        self.last_error: str | None = None
        self.last_files: list[str] = []
        self.reject: list = []  # pending forced failures: [count, message]
        self.delay_ms = 0

    def check(self, config: dict) -> dict:
        """The configuration as it would be applied: interpolated, clouds checked, ids given."""
        config = interpolate(config, self.variables)
        unknown = [k for k in config if k not in ("jenkins", "unclassified", "security", "credentials", "tool", "jobs")]
        if unknown:
            raise CascError(
                f"No configurator found for the following root {'elements' if len(unknown) > 1 else 'element'}: "
                f"{', '.join(map(str, unknown))}. This may indicate that the required plugin is not installed or "
                "failed to load. Verify that the plugin is installed and check the Jenkins startup logs for "
                "plugin loading errors."
            )
        jenkins = config.get("jenkins")
        if jenkins is not None and not isinstance(jenkins, dict):
            raise CascError("Failed to configure 'jenkins': expected a mapping")
        if jenkins and "clouds" in jenkins:
            jenkins = dict(jenkins)
            jenkins["clouds"] = self.checker.clouds(jenkins["clouds"] or [])
            config = {**config, "jenkins": jenkins}
        return config

    def reload(self, via: str) -> str | None:
        """Re-reads the folder and applies it all or nothing; returns the error message or None."""
        with self.lock:
            if via != "start-up":
                self.reloads += 1
            if self.delay_ms:
                time.sleep(self.delay_ms / 1000)
            try:
                if self.reject:
                    message = self.reject[0][1]
                    self.reject[0][0] -= 1
                    if self.reject[0][0] <= 0:
                        self.reject.pop(0)
                    raise CascError(message)
                config, files = read_folder(self.folder)
                checked = self.check(config)
            except CascError as err:
                self.failed += 1
                self.last_error = str(err)
                LOG.error("reload via %s failed, nothing applied: %s", via, err)
                return str(err)
            self.live = apply(self.live, checked)
            self.applied += 1
            self.last_error = None
            self.last_files = files
            LOG.info("reload via %s applied %d file(s): %s", via, len(files), ", ".join(files))
            return None

    def state(self) -> dict:
        with self.lock:
            return {
                "reloads": self.reloads,
                "applied": self.applied,
                "failed": self.failed,
                "last_error": self.last_error,
                "files": self.last_files,
                "clouds": [c["kubernetes"].get("name") for c in self.live.get("jenkins", {}).get("clouds", [])],
                "delay_ms": self.delay_ms,
                "reject": [list(r) for r in self.reject],
            }

    def export(self) -> str:
        """The live configuration as YAML; local users' passwords are write-only there, as in Jenkins."""
        with self.lock:
            live = json.loads(json.dumps(self.live))
        realm = live.get("jenkins", {}).get("securityRealm")
        if isinstance(realm, dict) and isinstance(realm.get("local"), dict):
            for user in realm["local"].get("users") or []:
                if isinstance(user, dict):
                    user.pop("password", None)
        return yaml.safe_dump(escape(live), sort_keys=False, default_flow_style=False)


def apply(live: dict, config: dict) -> dict:
    """The live configuration after applying `config`: mentioned settings replace the current ones,
    `jenkins.clouds` (a PersistedList) wholesale; unmentioned ones stay."""

    def merge(old, new):
        if isinstance(old, dict) and isinstance(new, dict):
            out = dict(old)
            for k, v in new.items():
                out[k] = merge(old.get(k), v) if k != "clouds" else v
            return out
        return new

    return merge(live, config)


class Users:
    """User name → (API token, permissions)."""

    def __init__(self, users: dict[str, dict]):
        self.users = users

    def authenticate(self, header: str | None):
        """(status, user): 401 without or with wrong credentials, else 200 and the user name."""
        if not header or not header.startswith("Basic "):
            return 401, None
        try:
            name, _, token = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return 401, None
        user = self.users.get(name)
        if user is None or not hmac.compare_digest(user["token"].encode(), token.encode()):
            return 401, None
        return 200, name

    def has(self, name: str, permission: str) -> bool:
        granted = set()
        for p in self.users[name]["permissions"]:
            granted |= IMPLIES.get(p, {p})
        return permission in granted


def make_handler(controller: Controller, users: Users, token: str | None):
    class Handler(BaseHTTPRequestHandler):
        server_version = "Jetty(12) jenkins-standin"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the query string may hold the reload token
            LOG.info("%s %s -> %s", self.command, urlsplit(self.path).path, args[1] if len(args) > 1 else "")

        def body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def send(self, status: int, body: bytes | str, ctype: str = "text/plain; charset=utf-8", extra=None):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Jenkins", "2.568.2")
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def send_json(self, status: int, value):
            self.send(status, json.dumps(value), "application/json;charset=utf-8")

        def require(self, permission: str) -> bool:
            status, user = users.authenticate(self.headers.get("Authorization"))
            if status == 401:
                self.send(401, "Invalid password/token for user", extra={"WWW-Authenticate": 'Basic realm="Jenkins"'})
                return False
            if not users.has(user, permission):
                self.send(403, f"{user} is missing the Overall/{permission.title().replace('_', '')} permission")
                return False
            return True

        def do_GET(self):
            path = urlsplit(self.path).path
            if path.startswith("/_standin/"):
                return self.control(path, None)
            if path.rstrip("/") == "/configuration-as-code/schema":
                if self.require("SYSTEM_READ"):
                    self.send_json(200, json_schema(controller.catalog))
                return None
            if path in ("/", "/login"):
                return self.send(200, "Jenkins stand-in")
            return self.send(404, "Not Found")

        def do_POST(self):
            split = urlsplit(self.path)
            path = split.path
            body = self.body()
            if path.startswith("/_standin/"):
                return self.control(path, body)
            if path.rstrip("/") == "/reload-configuration-as-code":
                return self.token_reload(parse_qs(split.query).get("casc-reload-token", [None])[0])
            if path.rstrip("/") == "/configuration-as-code/reload":
                if self.require("MANAGE"):
                    error = controller.reload("configuration-as-code/reload")
                    if error is None:
                        self.send(302, "", extra={"Location": "/manage/configuration-as-code/"})
                    else:
                        self.send(200, f"<html><body><h1>Error</h1><p>{error}</p></body></html>", "text/html")
                return None
            if path.rstrip("/") == "/configuration-as-code/check":
                if self.require("ADMINISTER"):
                    try:
                        controller.check(read_document(body.decode(errors="replace")))
                    except CascError as err:
                        return self.send_json(400, [{"line": -1, "message": str(err)}])
                    self.send_json(200, [])
                return None
            if path.rstrip("/") == "/configuration-as-code/export":
                if self.require("SYSTEM_READ"):
                    self.send(
                        200,
                        controller.export(),
                        "application/x-yaml; charset=utf-8",
                        {"Content-Disposition": 'attachment; filename="jenkins.yaml"'},
                    )
                return None
            return self.send(404, "Not Found")

        def token_reload(self, given: str | None):
            if not token:
                LOG.warning("Configuration reload via token is not enabled")
                return self.send(404, "Not Found")
            if given is None or not hmac.compare_digest(token.encode(), given.encode()):
                LOG.warning("Invalid token received, not reloading configuration")
                return self.send(401, "Unauthorized")
            error = controller.reload("token")
            if error is None:
                return self.send(200, "")
            # Stapler's HttpResponses.errorJSON: a JSON body with status "error" (HTTP 200).
            return self.send_json(200, {"status": "error", "message": f"Failed to reload configuration: {error}"})

        def control(self, path: str, body: bytes | None):
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                return self.send(403, "loopback only")
            args = json.loads(body or b"{}") if body is not None else {}
            if path == "/_standin/state":
                return self.send_json(200, controller.state())
            if path == "/_standin/reject" and body is not None:
                with controller.lock:
                    controller.reject.append([int(args.get("count", 1)), str(args.get("message", "rejected"))])
                return self.send_json(200, controller.state())
            if path == "/_standin/slow" and body is not None:
                with controller.lock:
                    controller.delay_ms = int(args.get("ms", 0))
                return self.send_json(200, controller.state())
            return self.send(404, "Not Found")

    return Handler


def parse_users(args) -> dict[str, dict]:
    users = {}
    if args.users:
        users.update(json.loads(Path(args.users).read_text()))
    for spec in args.user or []:
        name, token, perms = spec.split(":", 2)
        users[name] = {"token": token, "permissions": [p for p in perms.split(",") if p]}
    return users


def exit_with_parent(pid: int) -> None:
    """Ends this process once `pid` has gone (a test process that died without stopping us)."""
    while Path(f"/proc/{pid}").exists():
        time.sleep(0.5)
    os._exit(0)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--casc-folder", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file")
    parser.add_argument("--reload-token", default=os.environ.get("CASC_RELOAD_TOKEN"))
    parser.add_argument("--users", help='JSON: {"admin": {"token": "...", "permissions": ["ADMINISTER"]}}')
    parser.add_argument("--user", action="append", help="NAME:TOKEN:PERM[,PERM] (repeatable)")
    parser.add_argument("--variables", help="JSON object of values for ${name} in the configuration")
    parser.add_argument("--log", help="log file (default stderr)")
    parser.add_argument("--parent-pid", type=int, help="exit when that process is gone")
    args = parser.parse_args(argv)
    if args.parent_pid:
        threading.Thread(target=exit_with_parent, args=(args.parent_pid,), daemon=True).start()

    handler = logging.FileHandler(args.log) if args.log else logging.StreamHandler()
    logging.basicConfig(level=logging.INFO, handlers=[handler], format="%(asctime)s %(levelname)s %(message)s")
    variables = json.loads(Path(args.variables).read_text()) if args.variables else {}
    folder = Path(args.casc_folder)
    folder.mkdir(parents=True, exist_ok=True)
    controller = Controller(folder, Catalog.load(), variables)
    controller.reload("start-up")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(controller, Users(parse_users(args)), args.reload_token))
    server.daemon_threads = True
    port = server.server_address[1]
    url = f"http://{args.host}:{port}"
    LOG.info("listening on %s, casc folder %s, token reload %s", url, folder, "on" if args.reload_token else "off")
    if args.ready_file:
        tmp = Path(args.ready_file + ".tmp")
        tmp.write_text(json.dumps({"url": url, "port": port, "pid": os.getpid()}))
        os.replace(tmp, args.ready_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main(sys.argv[1:]))
