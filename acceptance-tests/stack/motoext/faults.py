"""Fault knobs: throttling, 5xx and IAM eventual consistency, set per test run over HTTP.

Real IAM and EKS throttle, fail and lag; moto never does, so without these knobs the provider's
retry paths would never run in a test. Tests share one moto per test process and run in
parallel, so every rule is scoped to an account (a test's fresh account) or to "*" (all).

Control API (JSON), served by the middleware on the moto port:
  POST   /_stack/faults   {"account": "111122223333",            # optional, default "*"
                           "throttle": {"iam:GetRole": 3},        # next N calls -> Throttling
                           "server_error": {"eks:*": 2},          # next N calls -> 500
                           "errors": {"iam:DeleteRole":           # next N calls -> this error
                                      {"count": 2, "status": 409, "code": "DeleteConflict"}},
                           "new_role_not_found_reads": 2,         # GetRole of a new role -> NoSuchEntity
                           "hold": {"iam:CreateRole":              # next N calls carried out, their
                                    {"count": 1, "after_ms": 120000}},  # answer held this long
                           "invalid_principal_seconds": 5.0}      # trust policy naming a young role -> 400
  GET    /_stack/faults   current rules and what is left of them
  GET    /_stack/fired[?account=A]   how often each rule fired: [{account, kind, operation, count}]
  DELETE /_stack/faults[?account=A]   clears all rules (of one account)
Operation patterns are fnmatch patterns on `service:Operation`.
"""

import fnmatch
import threading
import time

ANY = "*"


class Faults:
    """Thread-safe store of the fault rules and of the eventual-consistency bookkeeping."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holds = Holds()
        self._empty()

    def _empty(self) -> None:
        self._counted: dict[tuple[str, str, str], int] = {}
        self._errors: dict[tuple[str, str, str], tuple[int, int, str, str]] = {}
        self._settings: dict[tuple[str, str], float] = {}
        self._pending_reads: dict[tuple[str, str], int] = {}
        self._role_created: dict[str, float] = {}
        self._fired: dict[tuple[str, str, str], int] = {}

    def clear(self, account: str | None = None) -> None:
        """Drops every rule, or those of one account; `POST /moto-api/reset` calls it too."""
        self.holds.clear(account)
        with self._lock:
            if account is None:
                self._empty()
                return
            self._counted = {k: v for k, v in self._counted.items() if k[0] != account}
            self._errors = {k: v for k, v in self._errors.items() if k[0] != account}
            self._settings = {k: v for k, v in self._settings.items() if k[0] != account}
            self._pending_reads = {k: v for k, v in self._pending_reads.items() if k[0] != account}
            self._fired = {k: v for k, v in self._fired.items() if k[0] != account}

    def configure(self, spec: dict) -> None:
        """Adds the rules of one POST /_stack/faults body (counts add up; settings replace)."""
        account = str(spec.get("account") or ANY)
        self.holds.configure(account, spec.get("hold") or {})
        with self._lock:
            for pattern, rule in (spec.get("errors") or {}).items():
                key = (account, "error", pattern)
                left = self._errors.get(key, (0, 0, "", ""))[0]
                self._errors[key] = (left + int(rule.get("count", 1)), int(rule["status"]), str(rule["code"]),
                                     str(rule.get("message") or f"{rule['code']} (fault injected by the stack)"))
            for kind in ("throttle", "server_error"):
                for pattern, count in (spec.get(kind) or {}).items():
                    key = (account, kind, pattern)
                    self._counted[key] = self._counted.get(key, 0) + int(count)
            for name in ("new_role_not_found_reads", "invalid_principal_seconds"):
                if name in spec:
                    self._settings[(account, name)] = float(spec[name])

    def snapshot(self) -> dict:
        """The rules still armed, for GET /_stack/faults and for debugging a test."""
        with self._lock:
            return {
                "counted": [
                    {"account": a, "kind": k, "operation": p, "remaining": n}
                    for (a, k, p), n in sorted(self._counted.items())
                    if n > 0
                ]
                + [
                    {"account": a, "kind": f"error {code}", "operation": p, "remaining": n}
                    for (a, _, p), (n, _, code, _) in sorted(self._errors.items())
                    if n > 0
                ],
                "settings": [{"account": a, "name": n, "value": v} for (a, n), v in sorted(self._settings.items())],
                "pending_role_reads": [
                    {"account": a, "role": r, "remaining": n} for (a, r), n in sorted(self._pending_reads.items())
                ],
                "holds": self.holds.snapshot(),
            }

    def take(self, kind: str, account: str, op_name: str) -> bool:
        """True if a `kind` rule matches this call; uses up one of its N."""
        with self._lock:
            for key, remaining in self._counted.items():
                scope, rule_kind, pattern = key
                if (
                    rule_kind == kind
                    and remaining > 0
                    and scope in (account, ANY)
                    and fnmatch.fnmatchcase(op_name, pattern)
                ):
                    self._counted[key] = remaining - 1
                    self._count_fired(scope, kind, pattern)
                    return True
        return False

    def take_error(self, account: str, op_name: str) -> tuple[int, str, str] | None:
        """The (status, code, message) of an `errors` rule matching this call; uses up one."""
        with self._lock:
            for key, (remaining, status, code, message) in self._errors.items():
                scope, _, pattern = key
                if remaining > 0 and scope in (account, ANY) and fnmatch.fnmatchcase(op_name, pattern):
                    self._errors[key] = (remaining - 1, status, code, message)
                    self._count_fired(scope, f"error {code}", pattern)
                    return status, code, message
        return None

    def setting(self, account: str, name: str) -> float:
        """The account's value of a setting, else the global one, else 0 (off)."""
        with self._lock:
            return self._settings.get((account, name), self._settings.get((ANY, name), 0.0))

    def role_created(self, account: str, role_name: str, role_arn: str) -> None:
        """Records a successful CreateRole: arms the NoSuchEntity reads and the principal clock."""
        reads = int(self.setting(account, "new_role_not_found_reads"))
        with self._lock:
            if reads > 0:
                self._pending_reads[(account, role_name)] = reads
            self._role_created[role_arn] = time.monotonic()

    def principal_created(self, arn: str) -> None:
        """Records a principal other than a role (an OIDC provider) for the principal clock."""
        with self._lock:
            self._role_created[arn] = time.monotonic()

    def take_not_found_read(self, account: str, role_name: str) -> bool:
        """True if this GetRole must still answer NoSuchEntity; uses up one read."""
        with self._lock:
            left = self._pending_reads.get((account, role_name), 0)
            if left <= 0:
                return False
            if left == 1:
                del self._pending_reads[(account, role_name)]
            else:
                self._pending_reads[(account, role_name)] = left - 1
            self._count_fired(account, "new_role_not_found_reads", f"iam:GetRole {role_name}")
            return True

    def role_age(self, role_arn: str) -> float | None:
        """Seconds since CreateRole of this ARN through this server, or None if unknown."""
        with self._lock:
            created = self._role_created.get(role_arn)
        return None if created is None else time.monotonic() - created

    # --- How often each rule fired ------------------------------------------------------------
    # A test that arms a fault and sees its apply pass proves nothing unless the fault was met, so
    # every rule counts its firings (per account, kind and operation pattern) and GET /_stack/fired
    # reports them; the counts survive the rule being used up, and go with `clear`.

    def _count_fired(self, account: str, kind: str, operation: str) -> None:
        """Counts one firing; the caller holds the lock."""
        key = (account, kind, operation)
        self._fired[key] = self._fired.get(key, 0) + 1

    def principal_refused(self, account: str, op_name: str) -> None:
        """Counts one "Invalid principal" answer of the `invalid_principal_seconds` setting."""
        with self._lock:
            self._count_fired(account, "invalid_principal", op_name)

    def fired(self, account: str | None = None) -> dict:
        """Every rule that fired, how often (of one account, or all), for GET /_stack/fired."""
        with self._lock:
            return {
                "fired": [
                    {"account": a, "kind": k, "operation": p, "count": n}
                    for (a, k, p), n in sorted(self._fired.items())
                    if account is None or a == account
                ]
            }

class Holds:
    """Answers carried out but held back: the call happens, its reply comes `after_ms` late.

    What a client sees when the network or the process dies after AWS acted and before the answer
    arrived: a test kills the apply while its provider waits, and the rerun meets what the call
    made. A held answer is released early when the rules of its account are cleared (or the stack
    is reset), so no server thread waits on after its test.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: dict[tuple[str, str], tuple[int, float]] = {}
        self._held: dict[tuple[str, str], int] = {}
        self._released: dict[str, threading.Event] = {}

    def configure(self, account: str, rules: dict) -> None:
        """Adds `{"service:Operation": {"count": N, "after_ms": MS}}` rules (counts add up)."""
        with self._lock:
            for pattern, rule in rules.items():
                left = self._rules.get((account, pattern), (0, 0.0))[0]
                self._rules[(account, pattern)] = (left + int(rule.get("count", 1)), float(rule["after_ms"]))
            self._released.setdefault(account, threading.Event())

    def clear(self, account: str | None = None) -> None:
        """Drops the rules (of one account) and lets their held answers go."""
        with self._lock:
            scopes = list(self._released) if account is None else [account]
            for scope in scopes:
                event = self._released.pop(scope, None)
                if event is not None:
                    event.set()
            self._rules = {k: v for k, v in self._rules.items() if account is not None and k[0] != account}
            self._held = {k: v for k, v in self._held.items() if account is not None and k[0] != account}

    def take(self, account: str, op_name: str) -> tuple[float, threading.Event] | None:
        """For a call moto has carried out: how long to hold its answer and what ends the hold early."""
        with self._lock:
            for key, (remaining, after_ms) in self._rules.items():
                scope, pattern = key
                if remaining > 0 and scope in (account, ANY) and fnmatch.fnmatchcase(op_name, pattern):
                    self._rules[key] = (remaining - 1, after_ms)
                    self._held[key] = self._held.get(key, 0) + 1
                    return after_ms / 1000.0, self._released.setdefault(scope, threading.Event())
        return None

    def snapshot(self) -> list[dict]:
        """Rules not used up yet (`remaining`) and how many answers each has held (`held`)."""
        with self._lock:
            return [
                {"account": a, "operation": p, "remaining": n, "held": self._held.get((a, p), 0)}
                for (a, p), (n, _) in sorted(self._rules.items())
            ]
