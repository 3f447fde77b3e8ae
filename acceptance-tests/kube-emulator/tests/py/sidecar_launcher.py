"""Runs the chart's config-reload sidecar (kiwigrid/k8s-sidecar, unmodified, from shared/third_party)
outside a pod: it supplies the one file a pod would have (the service-account namespace, which
sidecar.py reads at start-up) and a local reload endpoint that records the sidecar's requests.

argv: SIDECAR_SRC_DIR NAMESPACE RELOAD_LOG. The sidecar's own settings come from the environment
(LABEL, FOLDER, NAMESPACE, METHOD, HOME with .kube/config), as in the chart."""

import builtins
import http.server
import io
import os
import runpy
import sys
import threading

src, namespace, reload_log = sys.argv[1], sys.argv[2], sys.argv[3]
SA_NAMESPACE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
real_open = builtins.open


def pod_open(file, *args, **kwargs):
    if file == SA_NAMESPACE:
        return io.StringIO(namespace)
    return real_open(file, *args, **kwargs)


builtins.open = pod_open


class Reload(http.server.BaseHTTPRequestHandler):
    """Stands in for Jenkins' /reload-configuration-as-code/ endpoint."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with real_open(reload_log, "a") as f:
            f.write(f"{self.command} {self.path}\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Reload)
threading.Thread(target=server.serve_forever, daemon=True).start()
os.environ["REQ_URL"] = f"http://127.0.0.1:{server.server_port}/reload-configuration-as-code/?casc-reload-token=pod"
os.environ["REQ_METHOD"] = "POST"

os.chdir(src)
sys.path.insert(0, src)
sys.argv = ["sidecar.py"]
runpy.run_path("sidecar.py", run_name="__main__")
