"""Runs the Helm chart's config-reload sidecar (kiwigrid/k8s-sidecar 2.10.1) unmodified, outside a pod.

  sidecar_launcher.py --pod-namespace NS [--shared DIR]

The environment is the container's (LABEL, FOLDER, NAMESPACE, METHOD, REQ_*, POD_NAME, HEALTH_PORT,
HOME holding `.kube/config`); the caller (stack.py jenkins-up) takes it from the chart fixture's
StatefulSet. The sidecar's source is `<shared>/third_party/k8s-sidecar/src` (`--shared`, else env
`TFPJ_SHARED`, else `../shared` from the repository root).

What a pod gives the sidecar and this process lacks is its service-account namespace file: `sidecar.py`
opens `/var/run/secrets/kubernetes.io/serviceaccount/namespace` at start-up. The launcher answers
that one path with `--pod-namespace` (patching `builtins.open` for it alone) and then runs
`sidecar.py` as `__main__` with `runpy`, in the source folder, as the image does (`python -u -m sidecar`).
"""

import argparse
import builtins
import io
import os
import runpy
import sys
from pathlib import Path

SA_NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_dir(arg: str | None) -> Path:
    """Where the shared third-party sources live."""
    return Path(arg or os.environ.get("TFPJ_SHARED") or REPO_ROOT.parent / "shared").resolve()


def provide_namespace_file(namespace: str) -> None:
    """Makes `open(SA_NAMESPACE_FILE)` return `namespace`; every other path opens as usual."""
    real_open = builtins.open

    def patched(file, mode="r", *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and os.fspath(file) == SA_NAMESPACE_FILE and "r" in mode:
            return io.BytesIO(namespace.encode()) if "b" in mode else io.StringIO(namespace)
        return real_open(file, mode, *args, **kwargs)

    builtins.open = patched


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pod-namespace", required=True, help="the namespace the pod would run in")
    parser.add_argument("--shared", help="the shared folder (default: $TFPJ_SHARED or ../shared)")
    args = parser.parse_args(argv)
    src = shared_dir(args.shared) / "third_party/k8s-sidecar/src"
    script = src / "sidecar.py"
    if not script.is_file():
        sys.exit(f"sidecar_launcher: {script} does not exist (set TFPJ_SHARED to the shared folder)")
    provide_namespace_file(args.pod_namespace)
    os.chdir(src)
    sys.path.insert(0, str(src))
    sys.argv = [str(script)]  # helpers.py parses the command line: give it none of ours
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
