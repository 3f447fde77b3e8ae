"""Watches ConfigMaps by label with the official client's watch.Watch().stream, the way the
chart's config-reload sidecar does, and reports every event it gets.

argv: EMULATOR_DIR NAMESPACE. Output: one JSON line per event, tagged with the phase."""

import sys

from kubernetes import watch

from emulator import config_map, core_v1, emit

ns = sys.argv[2]
sel = "casc"
v1 = core_v1()
v1.create_namespaced_config_map(ns, config_map("a", {"casc": "1"}, {"k": "1"}))
v1.create_namespaced_config_map(ns, config_map("b", {"casc": "1"}))
v1.create_namespaced_config_map(ns, config_map("c", {"other": "1"}))

# Phase "initial": no resourceVersion, so the current matching objects come as ADDED; the watch
# ends by its server-side timeout.
for ev in watch.Watch().stream(v1.list_namespaced_config_map, ns, label_selector=sel, timeout_seconds=1):
    emit(phase="initial", type=ev["type"], name=ev["object"].metadata.name)

# Phase "changes": from a list's resourceVersion, after changes that move objects in and out of
# the selector.
rv = v1.list_namespaced_config_map(ns, label_selector=sel).metadata.resource_version
v1.patch_namespaced_config_map("a", ns, {"data": {"k": "2"}})
v1.patch_namespaced_config_map("c", ns, {"metadata": {"labels": {"casc": "yes"}}})
v1.patch_namespaced_config_map("b", ns, {"metadata": {"labels": {"casc": None}}})
v1.delete_namespaced_config_map("a", ns)
v1.create_namespaced_config_map(ns, config_map("end", {"casc": "1"}))
w = watch.Watch()
for ev in w.stream(v1.list_namespaced_config_map, ns, label_selector=sel, resource_version=rv, timeout_seconds=30):
    obj = ev["object"]
    emit(phase="changes", type=ev["type"], name=obj.metadata.name, data=obj.data, labels=obj.metadata.labels)
    if obj.metadata.name == "end":
        w.stop()

# Phase "bookmarks": allow_watch_bookmarks; the watch ends by its timeout with a BOOKMARK carrying
# the resourceVersion to resume from (client 32.0.1 yields BOOKMARK objects as plain dicts).
latest = v1.list_namespaced_config_map(ns).metadata.resource_version
for ev in watch.Watch().stream(
    v1.list_namespaced_config_map, ns, label_selector=sel, resource_version=latest, allow_watch_bookmarks=True, timeout_seconds=1
):
    obj = ev["raw_object"]
    emit(phase="bookmarks", type=ev["type"], object=obj, latest=latest)
