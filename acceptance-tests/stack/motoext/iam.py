"""IAM eventual consistency, which real IAM has and moto lacks, behind the fault knobs.

Real IAM replicates a new role for seconds: GetRole may miss it, and a trust policy naming it is
rejected as an invalid principal. The provider must retry both; these checks make a test see
them on demand (faults.Faults holds the knobs and the bookkeeping).
"""

import json
import re

from .awsproto import Call, query_error
from .faults import Faults

# Principals IAM must have replicated before a trust may name them: roles, and OIDC providers
# (an IRSA trust's `Federated` principal, right after the provider was created).
YOUNG_PRINCIPAL = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:(role|oidc-provider)/.+$")


def before(call: Call, faults: Faults):
    """An error response if eventual consistency must show for this call, else None."""
    if call.operation == "GetRole":
        name = call.params.get("RoleName", "")
        if faults.take_not_found_read(call.account, name):
            return query_error("iam", 404, "NoSuchEntity", f"The role with name {name} cannot be found.")
    elif call.operation in ("CreateRole", "UpdateAssumeRolePolicy"):
        young = _young_principal(call, faults)
        if young:
            kind = "Federated" if ":oidc-provider/" in young else "AWS"
            faults.principal_refused(call.account, call.op_name)
            return query_error("iam", 400, "MalformedPolicyDocument", f'Invalid principal in policy: "{kind}":"{young}"')
    return None


def after(call: Call, faults: Faults, status: int) -> None:
    """Bookkeeping once moto has answered: starts the clocks of a role or OIDC provider it just created."""
    if call.operation == "CreateRole" and status == 200:
        name = call.params.get("RoleName", "")
        path = call.params.get("Path") or "/"
        faults.role_created(call.account, name, f"arn:aws:iam::{call.account}:role{path}{name}")
    elif call.operation == "CreateOpenIDConnectProvider" and status == 200:
        url = (call.params.get("Url") or "").removeprefix("https://")
        faults.principal_created(f"arn:aws:iam::{call.account}:oidc-provider/{url}")


def _young_principal(call: Call, faults: Faults) -> str | None:
    """The first principal ARN in the trust policy younger than the knob allows."""
    window = faults.setting(call.account, "invalid_principal_seconds")
    if window <= 0:
        return None
    for arn in _aws_principals(call.params.get("AssumeRolePolicyDocument") or call.params.get("PolicyDocument")):
        age = faults.role_age(arn) if YOUNG_PRINCIPAL.match(arn) else None
        if age is not None and age < window:
            return arn
    return None


def _aws_principals(document: str | None) -> list[str]:
    """Every `Principal.AWS` and `Principal.Federated` value of a policy document; [] for one that
    doesn't parse."""
    try:
        policy = json.loads(document or "")
    except ValueError:
        return []
    statements = policy.get("Statement", []) if isinstance(policy, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    found = []
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        for kind in ("AWS", "Federated"):
            value = principal.get(kind) if isinstance(principal, dict) else None
            found.extend([value] if isinstance(value, str) else list(value or []))
    return found
