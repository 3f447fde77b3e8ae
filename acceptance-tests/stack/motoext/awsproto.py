"""What the stack's WSGI middleware needs to know about an AWS request before moto sees it.

moto decides the service, region and account deep inside its Flask apps; the fault knobs and the
EKS routes moto lacks have to decide the same things earlier, from the raw WSGI environ, so this
module re-derives them the way moto 5.2.5 does (SigV4 credential scope, `x-moto-account-id`,
access keys moto issued) and names the operation (`iam:GetRole`, `eks:DescribeCluster`).
It also writes AWS error bodies in each protocol's shape, since an SDK only classifies an error
(throttling, NoSuchEntity ...) when the shape is right.
"""

import io
import json
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "us-east-1"

# Services that speak the AWS query protocol (form body, XML answers) and their XML namespaces.
QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

# An access key id that names its account: "AKIA" + 12-digit account id + 4 characters, 20 in all
# like a real key. A test hands such a key to a Terraform run through AWS_ACCESS_KEY_ID alone.
ACCOUNT_KEY = re.compile(r"^AKIA(\d{12})[A-Z0-9]{4}$")

_SEG = r"[^/]+"
EKS_OPERATIONS = [
    ("POST", r"/clusters", "CreateCluster"),
    ("GET", r"/clusters", "ListClusters"),
    ("GET", rf"/clusters/{_SEG}", "DescribeCluster"),
    ("DELETE", rf"/clusters/{_SEG}", "DeleteCluster"),
    ("POST", rf"/clusters/{_SEG}/update-config", "UpdateClusterConfig"),
    ("POST", rf"/clusters/{_SEG}/pod-identity-associations", "CreatePodIdentityAssociation"),
    ("GET", rf"/clusters/{_SEG}/pod-identity-associations", "ListPodIdentityAssociations"),
    ("GET", rf"/clusters/{_SEG}/pod-identity-associations/{_SEG}", "DescribePodIdentityAssociation"),
    ("POST", rf"/clusters/{_SEG}/pod-identity-associations/{_SEG}", "UpdatePodIdentityAssociation"),
    ("DELETE", rf"/clusters/{_SEG}/pod-identity-associations/{_SEG}", "DeletePodIdentityAssociation"),
    ("POST", rf"/clusters/{_SEG}/access-entries", "CreateAccessEntry"),
    ("GET", rf"/clusters/{_SEG}/access-entries", "ListAccessEntries"),
    ("GET", rf"/clusters/{_SEG}/access-entries/{_SEG}", "DescribeAccessEntry"),
    ("POST", rf"/clusters/{_SEG}/access-entries/{_SEG}", "UpdateAccessEntry"),
    ("DELETE", rf"/clusters/{_SEG}/access-entries/{_SEG}", "DeleteAccessEntry"),
    ("POST", rf"/clusters/{_SEG}/access-entries/{_SEG}/access-policies", "AssociateAccessPolicy"),
    ("GET", rf"/clusters/{_SEG}/access-entries/{_SEG}/access-policies", "ListAssociatedAccessPolicies"),
    ("DELETE", rf"/clusters/{_SEG}/access-entries/{_SEG}/access-policies/{_SEG}", "DisassociateAccessPolicy"),
    ("GET", r"/tags/.+", "ListTagsForResource"),
    ("POST", r"/tags/.+", "TagResource"),
    ("DELETE", r"/tags/.+", "UntagResource"),
]
_EKS_COMPILED = [(m, re.compile(p + "$"), op) for m, p, op in EKS_OPERATIONS]


@dataclass
class Call:
    """One AWS request as the middleware sees it: routing facts plus the decoded parameters."""

    method: str
    segments: list[str]  # raw path split on "/", each segment percent-decoded once
    query: dict[str, str]
    body: bytes
    service: str | None
    region: str
    access_key: str | None
    account: str = DEFAULT_ACCOUNT
    operation: str = ""
    params: dict = field(default_factory=dict)

    @property
    def op_name(self) -> str:
        """`service:Operation`, the name fault rules match on."""
        return f"{self.service or 'unknown'}:{self.operation}"

    def json_body(self) -> dict:
        """The REST-JSON request body; an absent or invalid body counts as `{}` as in EKS."""
        try:
            value = json.loads(self.body or b"{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def read_body(environ: dict) -> bytes:
    """Reads the request body and puts an equivalent stream back for moto to read again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _credential_scope(environ: dict, query: dict[str, str]) -> list[str] | None:
    """`[key, date, region, service, aws4_request]` from the SigV4 header or a presigned URL."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    credential = None
    if auth.startswith("AWS4-HMAC-SHA256"):
        match = re.search(r"Credential=([^,\s]+)", auth)
        credential = match.group(1) if match else None
    elif "X-Amz-Credential" in query:
        credential = query["X-Amz-Credential"]
    parts = credential.split("/") if credential else []
    return parts if len(parts) == 5 else None


def resolve_account(environ: dict, access_key: str | None) -> str:
    """The account moto will pick, making an account-naming access key select its account.

    moto 5.2.5 takes the `x-moto-account-id` header first, then an access key it issued
    (CreateAccessKey, AssumeRole), then 123456789012. A Terraform provider only has env vars, so a
    key of the form AKIA<account>XXXX is turned into that header here (moto's random keys are
    AKIA + 16 letters and digits, so they don't collide in practice).
    """
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return header
    if not access_key:
        return DEFAULT_ACCOUNT
    match = ACCOUNT_KEY.match(access_key)
    if match:
        # Checked before moto's own lookup, which builds every partition's IAM backend of every
        # account it has seen (each loading ~1,600 managed policies) the first time it looks.
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = match.group(1)
        return match.group(1)
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def parse_call(environ: dict) -> Call:
    """Builds the Call for a request: service and region from SigV4, operation from the protocol."""
    raw_uri = environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
    raw_path, _, raw_query = raw_uri.partition("?")
    query = {k: v[-1] for k, v in parse_qs(raw_query or environ.get("QUERY_STRING", "")).items()}
    body = read_body(environ)
    scope = _credential_scope(environ, query)
    service = scope[3].lower() if scope else None
    region = scope[2] if scope else DEFAULT_REGION
    access_key = scope[0] if scope else None
    call = Call(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        segments=[unquote(s) for s in raw_path.split("/")[1:]],
        query=query,
        body=body,
        service=service,
        region=region,
        access_key=access_key,
    )
    call.account = resolve_account(environ, access_key)
    if service in QUERY_NAMESPACES:
        form = dict(query)
        if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            form.update({k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
        call.params = form
        call.operation = form.get("Action", "")
    elif service == "eks":
        path = raw_path.rstrip("/") or "/"
        call.operation = next(
            (op for m, rx, op in _EKS_COMPILED if m == call.method and rx.match(path)),
            f"{call.method} {path}",
        )
    return call


def query_error(service: str, status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    """An error in the query protocol's XML shape (IAM, STS)."""
    kind = "Receiver" if status >= 500 else "Sender"
    body = (
        f'<ErrorResponse xmlns="{QUERY_NAMESPACES.get(service, "")}">'
        f"<Error><Type>{kind}</Type><Code>{code}</Code><Message>{_xml_escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return status, {"Content-Type": "text/xml"}, body.encode()


def json_error(status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    """An error in the REST-JSON shape (EKS): the code in `x-amzn-ErrorType`, a `message` body."""
    headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps({"message": message}).encode()


def error_for(call: Call, status: int, code: str, message: str) -> tuple[int, dict, bytes]:
    """An error in the shape the calling service's SDK expects."""
    if call.service in QUERY_NAMESPACES:
        return query_error(call.service, status, code, message)
    return json_error(status, code, message)


def json_ok(value: dict, status: int = 200) -> tuple[int, dict, bytes]:
    """A REST-JSON success response."""
    headers = {"Content-Type": "application/json", "x-amzn-RequestId": str(uuid.uuid4())}
    return status, headers, json.dumps(value).encode()


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
