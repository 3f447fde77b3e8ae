"""The WSGI layer in front of moto's DomainDispatcherApplication.

Wrapping the whole dispatcher (rather than patching each moto backend) is the one place where
every request passes with its raw path and headers, before moto picks an account, so it is where
the account-naming access keys, the fault knobs, the control API and the EKS routes moto lacks
live. Everything else goes to moto untouched.
"""

import json
from http import HTTPStatus
from urllib.parse import parse_qs

from . import eks, iam
from .awsproto import error_for, json_ok, parse_call
from .faults import Faults

CONTROL_PREFIX = "/_stack/"


class StackMiddleware:
    """A WSGI app: control API, faults, EKS extensions, then moto."""

    def __init__(self, moto_app, faults: Faults) -> None:
        self.moto_app = moto_app
        self.faults = faults

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return _respond(start_response, self.control(environ, path))
        if path.startswith("/moto-api/reset") and environ.get("REQUEST_METHOD") == "POST":
            self.faults.clear()
            return self.moto_app(environ, start_response)
        if path.startswith("/moto-api"):
            return self.moto_app(environ, start_response)
        call = parse_call(environ)
        early = self.before(call)
        if early is not None:
            return _respond(start_response, early)
        status_seen = []

        def recording_start_response(status, headers, exc_info=None):
            status_seen.append(int(status.split(" ", 1)[0]))
            return start_response(status, headers, exc_info)

        body = self.moto_app(environ, recording_start_response)
        if call.service == "iam":
            # moto's Flask app has produced the response by now; only the status matters here.
            body = list(body)
            iam.after(call, self.faults, status_seen[0] if status_seen else 500)
        return self.held(call, body)

    def held(self, call, body):
        """The answer of a carried-out call, after the hold a `hold` rule puts on it (if any)."""
        hold = self.faults.holds.take(call.account, call.op_name)
        if hold is None:
            return body
        # werkzeug sends the status and headers with the first body chunk, so nothing of the
        # answer leaves before the wait ends: the client sees a call that hangs after it acted.
        body = list(body)
        seconds, released = hold
        released.wait(seconds)
        return body

    def before(self, call):
        """A response that replaces moto's for this call (a fault or an extension), or None."""
        if self.faults.take("throttle", call.account, call.op_name):
            code = "ThrottlingException" if call.service == "eks" else "Throttling"
            return error_for(call, 400, code, "Rate exceeded")
        if self.faults.take("server_error", call.account, call.op_name):
            code = {"iam": "ServiceFailure", "eks": "ServerException"}.get(call.service, "InternalFailure")
            return error_for(call, 500, code, "We encountered an internal error. Please try again.")
        error = self.faults.take_error(call.account, call.op_name)
        if error is not None:
            return error_for(call, *error)
        if call.service == "iam":
            return iam.before(call, self.faults)
        if call.service == "eks":
            return eks.handle(call)
        return None

    def control(self, environ, path):
        """The /_stack/ control API: health and fault rules."""
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_stack/health":
            return json_ok({"ok": True})
        if path == "/_stack/fired" and method == "GET":
            account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [None])[-1]
            return json_ok(self.faults.fired(account))
        if path != "/_stack/faults":
            return _plain(404, "unknown control path")
        if method == "GET":
            return json_ok(self.faults.snapshot())
        if method == "DELETE":
            account = parse_qs(environ.get("QUERY_STRING", "")).get("account", [None])[-1]
            self.faults.clear(account)
            return json_ok(self.faults.snapshot())
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
                self.faults.configure(spec)
            except (ValueError, TypeError, AttributeError) as err:
                return _plain(400, f"bad fault spec: {err}")
            return json_ok(self.faults.snapshot())
        return _plain(405, "use GET, POST or DELETE")


def _plain(status, text):
    return status, {"Content-Type": "text/plain"}, text.encode()


def _respond(start_response, response):
    status, headers, body = response
    reason = HTTPStatus(status).phrase
    headers = {**headers, "Content-Length": str(len(body))}
    start_response(f"{status} {reason}", list(headers.items()))
    return [body]
