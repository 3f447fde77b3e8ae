"""A watch from a resourceVersion older than the server's history, with the official client: the
server answers HTTP 200 and one ERROR event (Status 410 Expired), which watch.py turns into an
ApiException(410); the client recovers as documented (list again, watch from the list's version).

argv: EMULATOR_DIR NAMESPACE. Output: JSON lines."""

import sys

from kubernetes import watch
from kubernetes.client.rest import ApiException

from emulator import compact, config_map, core_v1, emit

ns = sys.argv[2]
v1 = core_v1()
v1.create_namespaced_config_map(ns, config_map("before", {"casc": "1"}))
old = v1.list_namespaced_config_map(ns).metadata.resource_version
v1.create_namespaced_config_map(ns, config_map("between", {"casc": "1"}))
compact()
for kwargs in ({"timeout_seconds": 5}, {}):
    try:
        for ev in watch.Watch().stream(v1.list_namespaced_config_map, ns, resource_version=old, **kwargs):
            emit(phase="expired", type=ev["type"])
    except ApiException as e:
        emit(phase="expired", retries=not kwargs, code=e.status, reason=e.reason)

listed = v1.list_namespaced_config_map(ns, label_selector="casc")
v1.create_namespaced_config_map(ns, config_map("after", {"casc": "1"}))
w = watch.Watch()
for ev in w.stream(
    v1.list_namespaced_config_map, ns, label_selector="casc", resource_version=listed.metadata.resource_version, timeout_seconds=30
):
    emit(phase="recovered", listed=[i.metadata.name for i in listed.items], type=ev["type"], name=ev["object"].metadata.name)
    w.stop()
