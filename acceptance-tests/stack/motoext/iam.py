"""IAM eventual consistency, which real IAM has and moto lacks, behind the fault knobs.

Real IAM replicates a new role for seconds: GetRole may miss it, and a trust policy naming it is
rejected as an invalid principal. The provider must retry both; these checks make a test see
them on demand (faults.Faults holds the knobs and the bookkeeping).
"""

import json
import re

from .awsproto import Call, query_error
from .faults import Faults

ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::\d{12}:role/.+$")


def before(call: Call, faults: Faults):
    """An error response if eventual consistency must show for this call, else None."""
    if call.operation == "GetRole":
        name = call.params.get("RoleName", "")
        if faults.take_not_found_read(call.account, name):
            return query_error("iam", 404, "NoSuchEntity", f"The role with name {name} cannot be found.")
    elif call.operation in ("CreateRole", "UpdateAssumeRolePolicy"):
        young = _young_principal(call, faults)
        if young:
            return query_error("iam", 400, "MalformedPolicyDocument", f'Invalid principal in policy: "AWS":"{young}"')
    return None


def after(call: Call, faults: Faults, status: int) -> None:
    """Bookkeeping once moto has answered: starts the clocks of a role it just created."""
    if call.operation == "CreateRole" and status == 200:
        name = call.params.get("RoleName", "")
        path = call.params.get("Path") or "/"
        faults.role_created(call.account, name, f"arn:aws:iam::{call.account}:role{path}{name}")


def _young_principal(call: Call, faults: Faults) -> str | None:
    """The first AWS principal ARN in the trust policy whose role is younger than the knob allows."""
    window = faults.setting(call.account, "invalid_principal_seconds")
    if window <= 0:
        return None
    for arn in _aws_principals(call.params.get("AssumeRolePolicyDocument") or call.params.get("PolicyDocument")):
        age = faults.role_age(arn) if ROLE_ARN.match(arn) else None
        if age is not None and age < window:
            return arn
    return None


def _aws_principals(document: str | None) -> list[str]:
    """Every `Principal.AWS` value of a policy document; [] for one that doesn't parse."""
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
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        found.extend([aws] if isinstance(aws, str) else list(aws or []))
    return found
