"""The EKS that moto 5.2.5 lacks: real cluster endpoints, Pod Identity, access entries.

moto's clusters carry a junk CA and one endpoint and issuer for every cluster, and it has no Pod
Identity or access-entry API at all (reference test-infra §1.2). The provider reads the endpoint
and CA to talk to Kubernetes and writes associations and entries, so those must behave like EKS.

State is stored on moto's own Cluster objects, so `POST /moto-api/reset`, accounts, regions and
DeleteCluster scope it exactly as they scope the clusters.
"""

import base64
import hashlib
import json
import os
import secrets
import string
import threading
import time

from .awsproto import Call, json_error, json_ok

NO_ENDPOINT = "https://127.0.0.1:1"
ACCESS_POLICY_PREFIX = "arn:aws:eks::aws:cluster-access-policy/"
# The cluster access policies EKS offers (ListAccessPolicies) that a Jenkins setup would use.
ACCESS_POLICIES = {
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSViewPolicy",
    "AmazonEKSAdminViewPolicy",
}
AUTH_MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")


class Emulator:
    """The Kubernetes emulator's clusters, read from its emulator.json (re-read when it changes)."""

    def __init__(self, path: str | None, fallback_ca_pem: str) -> None:
        self.path = path
        self.fallback_ca_pem = fallback_ca_pem
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._clusters: dict = {}

    def clusters(self) -> dict:
        """name -> {endpoint, ca_pem, issuer, ...} from the emulator, `{}` without one."""
        if not self.path:
            return {}
        with self._lock:
            try:
                mtime = os.stat(self.path).st_mtime
                if mtime != self._mtime:
                    with open(self.path, encoding="utf-8") as f:
                        self._clusters = json.load(f).get("clusters", {})
                    self._mtime = mtime
            except (OSError, ValueError):
                pass
            return self._clusters

    def default_ca_pem(self) -> str:
        """The controller cluster's CA, which EKS clusters the emulator doesn't serve present."""
        controller = self.clusters().get("controller") or next(iter(self.clusters().values()), None)
        return (controller or {}).get("ca_pem") or self.fallback_ca_pem


def stable_issuer(account: str, region: str, name: str) -> str:
    """An OIDC issuer URL in EKS's form, distinct per cluster and stable for (account, region, name)."""
    digest = hashlib.sha256(f"{account}/{region}/{name}".encode()).hexdigest()[:32].upper()
    return f"https://oidc.eks.{region}.amazonaws.com/id/{digest}"


def install(emulator: Emulator) -> None:
    """Patches moto's Cluster and CreateCluster so clusters get real endpoints, CAs, issuers and accessConfig."""
    from moto.eks.models import Cluster
    from moto.eks.responses import EKSResponse

    original_init = Cluster.__init__
    original_create = EKSResponse.create_cluster

    def cluster_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        _, _, _, region, account, _ = self.arn.split(":", 5)
        served = emulator.clusters().get(self.name)
        ca_pem = served["ca_pem"] if served else emulator.default_ca_pem()
        self.endpoint = served["endpoint"] if served else NO_ENDPOINT
        self.certificate_authority = {"data": base64.b64encode(ca_pem.encode()).decode()}
        # Always EKS's issuer form, even for emulated clusters (whose own JWT issuer differs): the
        # provider derives IRSA trust conditions from it exactly as it would on real EKS.
        self.identity = {"oidc": {"issuer": stable_issuer(account, region, self.name)}}
        self.access_config = {"authenticationMode": "CONFIG_MAP", "bootstrapClusterCreatorAdminPermissions": True}
        self.pod_identity_associations = {}
        self.access_entries = {}

    def create_cluster(self):
        result = original_create(self)
        wanted = self._get_param("accessConfig") or {}
        cluster = result.result["cluster"]
        if wanted.get("authenticationMode"):
            cluster.access_config["authenticationMode"] = wanted["authenticationMode"]
        if "bootstrapClusterCreatorAdminPermissions" in wanted:
            cluster.access_config["bootstrapClusterCreatorAdminPermissions"] = bool(
                wanted["bootstrapClusterCreatorAdminPermissions"]
            )
        return result

    Cluster.__init__ = cluster_init
    EKSResponse.create_cluster = create_cluster


def _cluster(call: Call, name: str):
    from moto.eks.models import eks_backends

    return eks_backends[call.account][call.region].clusters.get(name)


def _not_found(message: str):
    return json_error(404, "ResourceNotFoundException", message)


def _invalid(message: str):
    return json_error(400, "InvalidParameterException", message)


def _page(items: list, call: Call) -> tuple[list, str | None]:
    """EKS-style pagination: maxResults (1..100, default 100) and an opaque nextToken."""
    start = int(call.query.get("nextToken") or 0)
    size = max(1, min(100, int(call.query.get("maxResults") or 100)))
    page = items[start : start + size]
    return page, (str(start + size) if start + size < len(items) else None)


def _iam_principal_exists(arn: str) -> bool:
    """True if the IAM role or user of this ARN exists in moto (in the ARN's own account)."""
    from moto.iam.models import iam_backends

    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[4].isdigit():
        return False
    backend = iam_backends[parts[4]]["aws"]
    kind, _, rest = parts[5].partition("/")
    name = rest.rsplit("/", 1)[-1]
    if kind == "role":
        return any(r.arn == arn for r in backend.roles.values())
    if kind == "user":
        return name in backend.users and backend.users[name].arn == arn
    return False


def handle(call: Call):
    """Serves the EKS operations moto lacks; None hands the call on to moto."""
    handler = HANDLERS.get(call.operation)
    if handler is None:
        return None
    name = call.segments[1]
    cluster = _cluster(call, name)
    if cluster is None:
        return _not_found(f"No cluster found for name: {name}.")
    return handler(call, cluster)


# --- UpdateClusterConfig: accessConfig only; everything else stays with moto ------------------


def update_cluster_config(call: Call, cluster):
    wanted = call.json_body().get("accessConfig")
    if not wanted:
        return None
    mode = wanted.get("authenticationMode")
    current = cluster.access_config["authenticationMode"]
    if mode and AUTH_MODES.index(mode) < AUTH_MODES.index(current):
        return json_error(
            400, "InvalidRequestException", f"Unsupported authentication mode update from {current} to {mode}"
        )
    if mode:
        cluster.access_config["authenticationMode"] = mode
    now = time.time()
    update = {
        "id": secrets.token_hex(16),
        "status": "Successful",
        "type": "AccessConfigUpdate",
        "params": [{"type": "AuthenticationMode", "value": mode or current}],
        "createdAt": now,
        "errors": [],
    }
    return json_ok({"update": update})


# --- Pod Identity associations ----------------------------------------------------------------


def _association_id() -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "a-" + "".join(secrets.choice(alphabet) for _ in range(17))


def _association_summary(a: dict) -> dict:
    keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
    return {k: a[k] for k in keys if a.get(k) is not None}


def _check_role(arn: str | None):
    if not arn:
        return _invalid("roleArn is required.")
    if not _iam_principal_exists(arn) or ":role/" not in arn:
        return _invalid(f"Role provided in the request does not exist: {arn}")
    return None


def create_pod_identity_association(call: Call, cluster):
    body = call.json_body()
    namespace, service_account = body.get("namespace"), body.get("serviceAccount")
    if not namespace or not service_account:
        return _invalid("namespace and serviceAccount are required.")
    error = _check_role(body.get("roleArn")) or (body.get("targetRoleArn") and _check_role(body["targetRoleArn"]))
    if error:
        return error
    associations = cluster.pod_identity_associations
    if any(a["namespace"] == namespace and a["serviceAccount"] == service_account for a in associations.values()):
        return json_error(
            409,
            "ResourceInUseException",
            f"Association already exists for serviceAccount: {service_account} in namespace: {namespace}",
        )
    aid = _association_id()
    _, _, _, region, account, _ = cluster.arn.split(":", 5)
    now = time.time()
    association = {
        "clusterName": cluster.name,
        "namespace": namespace,
        "serviceAccount": service_account,
        "roleArn": body["roleArn"],
        "associationArn": f"arn:aws:eks:{region}:{account}:podidentityassociation/{cluster.name}/{aid}",
        "associationId": aid,
        "tags": body.get("tags") or {},
        "createdAt": now,
        "modifiedAt": now,
        "disableSessionTags": bool(body.get("disableSessionTags", False)),
    }
    if body.get("targetRoleArn"):
        association["targetRoleArn"] = body["targetRoleArn"]
        association["externalId"] = secrets.token_hex(16)
    associations[aid] = association
    return json_ok({"association": association})


def list_pod_identity_associations(call: Call, cluster):
    items = [
        _association_summary(a)
        for a in cluster.pod_identity_associations.values()
        if call.query.get("namespace") in (None, a["namespace"])
        and call.query.get("serviceAccount") in (None, a["serviceAccount"])
    ]
    page, token = _page(items, call)
    return json_ok({"associations": page, **({"nextToken": token} if token else {})})


def _association(call: Call, cluster):
    aid = call.segments[3]
    found = cluster.pod_identity_associations.get(aid)
    if found is None:
        return None, _not_found(f"Association {aid} not found in cluster {cluster.name}.")
    return found, None


def describe_pod_identity_association(call: Call, cluster):
    association, error = _association(call, cluster)
    return error or json_ok({"association": association})


def update_pod_identity_association(call: Call, cluster):
    association, error = _association(call, cluster)
    if error:
        return error
    body = call.json_body()
    for key in ("roleArn", "targetRoleArn"):
        if body.get(key):
            error = _check_role(body[key])
            if error:
                return error
            association[key] = body[key]
    if "disableSessionTags" in body:
        association["disableSessionTags"] = bool(body["disableSessionTags"])
    association["modifiedAt"] = time.time()
    return json_ok({"association": association})


def delete_pod_identity_association(call: Call, cluster):
    association, error = _association(call, cluster)
    if error:
        return error
    del cluster.pod_identity_associations[association["associationId"]]
    return json_ok({"association": association})


# --- Access entries and access policies -------------------------------------------------------


def _require_api_mode(cluster):
    if cluster.access_config["authenticationMode"] == "CONFIG_MAP":
        return json_error(
            400,
            "InvalidRequestException",
            "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
            "to perform this operation.",
        )
    return None


def _default_username(principal: str) -> str:
    _, _, _, _, account, resource = principal.split(":", 5)
    if resource.startswith("role/"):
        return f"arn:aws:sts::{account}:assumed-role/{resource.rsplit('/', 1)[-1]}/{{{{SessionName}}}}"
    return principal


def create_access_entry(call: Call, cluster):
    error = _require_api_mode(cluster)
    if error:
        return error
    body = call.json_body()
    principal = body.get("principalArn") or ""
    if not _iam_principal_exists(principal):
        return _invalid(f"The specified principalArn is invalid: invalid principal {principal}")
    if principal in cluster.access_entries:
        return json_error(
            409, "ResourceInUseException", "The specified access entry resource is already in use on this cluster."
        )
    _, _, _, region, account, _ = cluster.arn.split(":", 5)
    p_account, p_resource = principal.split(":", 5)[4], principal.split(":", 5)[5]
    kind, _, p_name = p_resource.partition("/")
    now = time.time()
    entry = {
        "clusterName": cluster.name,
        "principalArn": principal,
        "kubernetesGroups": body.get("kubernetesGroups") or [],
        "accessEntryArn": f"arn:aws:eks:{region}:{account}:access-entry/{cluster.name}/{kind}/{p_account}/"
        f"{p_name.rsplit('/', 1)[-1]}/{secrets.token_hex(4)}-{secrets.token_hex(2)}",
        "createdAt": now,
        "modifiedAt": now,
        "tags": body.get("tags") or {},
        "username": body.get("username") or _default_username(principal),
        "type": body.get("type") or "STANDARD",
    }
    cluster.access_entries[principal] = {"entry": entry, "policies": {}}
    return json_ok({"accessEntry": entry})


def list_access_entries(call: Call, cluster):
    error = _require_api_mode(cluster)
    if error:
        return error
    wanted = call.query.get("associatedPolicyArn")
    items = [p for p, e in cluster.access_entries.items() if wanted is None or wanted in e["policies"]]
    page, token = _page(items, call)
    return json_ok({"accessEntries": page, **({"nextToken": token} if token else {})})


def _access_entry(call: Call, cluster):
    principal = call.segments[3]
    found = cluster.access_entries.get(principal)
    if found is None:
        return None, _not_found(f"The specified access entry resource can't be found on this cluster: {principal}")
    return found, None


def describe_access_entry(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    return error or json_ok({"accessEntry": found["entry"]})


def update_access_entry(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    if error:
        return error
    body, entry = call.json_body(), found["entry"]
    if "kubernetesGroups" in body:
        entry["kubernetesGroups"] = body["kubernetesGroups"] or []
    if body.get("username"):
        entry["username"] = body["username"]
    entry["modifiedAt"] = time.time()
    return json_ok({"accessEntry": entry})


def delete_access_entry(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    if error:
        return error
    del cluster.access_entries[found["entry"]["principalArn"]]
    return json_ok({})


def associate_access_policy(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    if error:
        return error
    body = call.json_body()
    policy = body.get("policyArn") or ""
    scope = body.get("accessScope") or {}
    if not policy.startswith(ACCESS_POLICY_PREFIX) or policy[len(ACCESS_POLICY_PREFIX) :] not in ACCESS_POLICIES:
        return _not_found(f"The specified policy arn could not be found: {policy}")
    if scope.get("type") not in ("cluster", "namespace"):
        return _invalid("accessScope.type must be one of [cluster, namespace].")
    if scope["type"] == "namespace" and not scope.get("namespaces"):
        return _invalid("accessScope.namespaces must be set when accessScope.type is namespace.")
    if found["entry"]["type"] != "STANDARD":
        return _invalid("Access policies can only be associated with access entries of type STANDARD.")
    now = time.time()
    previous = found["policies"].get(policy)
    associated = {
        "policyArn": policy,
        "accessScope": {"type": scope["type"], "namespaces": scope.get("namespaces") or []},
        "associatedAt": previous["associatedAt"] if previous else now,
        "modifiedAt": now,
    }
    found["policies"][policy] = associated
    principal = found["entry"]["principalArn"]
    return json_ok({"clusterName": cluster.name, "principalArn": principal, "associatedAccessPolicy": associated})


def list_associated_access_policies(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    if error:
        return error
    page, token = _page(list(found["policies"].values()), call)
    result = {
        "clusterName": cluster.name,
        "principalArn": found["entry"]["principalArn"],
        "associatedAccessPolicies": page,
    }
    return json_ok({**result, **({"nextToken": token} if token else {})})


def disassociate_access_policy(call: Call, cluster):
    found, error = _access_entry(call, cluster)
    if error:
        return error
    policy = call.segments[5]
    if found["policies"].pop(policy, None) is None:
        return _not_found(f"The specified policy {policy} is not associated with this access entry.")
    return json_ok({})


HANDLERS = {
    "UpdateClusterConfig": update_cluster_config,
    "CreatePodIdentityAssociation": create_pod_identity_association,
    "ListPodIdentityAssociations": list_pod_identity_associations,
    "DescribePodIdentityAssociation": describe_pod_identity_association,
    "UpdatePodIdentityAssociation": update_pod_identity_association,
    "DeletePodIdentityAssociation": delete_pod_identity_association,
    "CreateAccessEntry": create_access_entry,
    "ListAccessEntries": list_access_entries,
    "DescribeAccessEntry": describe_access_entry,
    "UpdateAccessEntry": update_access_entry,
    "DeleteAccessEntry": delete_access_entry,
    "AssociateAccessPolicy": associate_access_policy,
    "ListAssociatedAccessPolicies": list_associated_access_policies,
    "DisassociateAccessPolicy": disassociate_access_policy,
}
