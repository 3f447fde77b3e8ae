"""Lists ConfigMaps in pages with the official client (`limit` and `_continue`, as the sidecar's
_iter_k8s_items does), also across a compaction (410 Expired with a fresh continue token).

argv: EMULATOR_DIR NAMESPACE. Output: one JSON line per page or error."""

import json
import sys

from kubernetes.client.rest import ApiException

from emulator import compact, config_map, core_v1, emit

ns = sys.argv[2]
v1 = core_v1()
for i in range(7):
    v1.create_namespaced_config_map(ns, config_map(f"cm-{i}", {"page": "yes"}))


def walk(phase, **kwargs):
    token = None
    while True:
        resp = v1.list_namespaced_config_map(ns, limit=2, _continue=token, **kwargs)
        token = resp.metadata._continue
        emit(
            phase=phase,
            names=[i.metadata.name for i in resp.items],
            more=bool(token),
            remaining=resp.metadata.remaining_item_count,
            rv=resp.metadata.resource_version,
        )
        if not token:
            return


walk("all")
walk("selected", label_selector="page=yes")

# A page taken, then an object created: the next pages still show the first page's snapshot.
first = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=3)
v1.create_namespaced_config_map(ns, config_map("cm-7", {"page": "yes"}))
rest = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=10, _continue=first.metadata._continue)
emit(phase="snapshot", names=[i.metadata.name for i in first.items + rest.items])

# After a compaction the token is too old: 410 Expired, whose Status carries a token for the rest.
first = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=3)
v1.create_namespaced_config_map(ns, config_map("unrelated"))
compact()
try:
    v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=3, _continue=first.metadata._continue)
    emit(phase="expired", error=None)
except ApiException as e:
    status = json.loads(e.body)
    emit(phase="expired", code=e.status, reason=status["reason"], message=status["message"])
    rest = v1.list_namespaced_config_map(ns, label_selector="page=yes", limit=10, _continue=status["metadata"]["continue"])
    emit(phase="after-expired", names=[i.metadata.name for i in first.items + rest.items])
