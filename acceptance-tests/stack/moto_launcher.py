"""Starts moto 5.2.5 as the stack's AWS, with the EKS gaps filled and the fault knobs armed.

Usage: python moto_launcher.py [--port N] [--emulator-json DIR/kube/emulator.json] [--ready-file F]

It serves moto's DomainDispatcherApplication the way moto's ThreadedMotoServer does (werkzeug's
threaded server with MotoRequestHandler), with motoext.middleware.StackMiddleware in front. Port 0
picks a free port race-free; the chosen port is written to --ready-file (JSON) once the socket is
listening, which is what stack.py waits for. SIGTERM and SIGINT stop it.
"""

import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time

# moto reads this when an account's IAM backend is first built; AttachRolePolicy of AWS managed
# policies (AmazonEKSClusterPolicy ...) needs it, as on real IAM.
os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from motoext import eks, sts  # noqa: E402
from motoext.faults import Faults  # noqa: E402
from motoext.middleware import StackMiddleware  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The command line; every option has a default so a person can just run it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--emulator-json", help="the Kubernetes emulator's emulator.json, if any")
    parser.add_argument("--ready-file", help="written as {pid, port, url} once listening")
    return parser.parse_args(argv)


def fallback_ca_pem() -> str:
    """A real self-signed CA for clusters when no emulator runs (--no-kube): it parses like EKS's.

    cryptography is a dependency of moto[server], so it is always in the venv.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def warm_up() -> None:
    """Imports the backends the tests use, off the request path: moto imports them lazily and the
    first IAM or EKS call would otherwise pay ~1 s for it, inside some test's timeout."""
    import moto.eks.responses  # noqa: F401
    import moto.iam.responses  # noqa: F401
    import moto.sts.responses  # noqa: F401
    from moto.iam.models import iam_backends

    iam_backends["123456789012"]["aws"]


def write_ready(path: str, port: int, host: str) -> None:
    """Atomically publishes where moto listens (rename, so a reader never sees half a file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"pid": os.getpid(), "port": port, "url": f"http://{host}:{port}"}, f)
    os.replace(tmp, path)


def main(argv: list[str]) -> None:
    """Builds the app, binds, announces readiness and serves until SIGTERM."""
    args = parse_args(argv)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    started = time.monotonic()
    eks.install(eks.Emulator(args.emulator_json, fallback_ca_pem()))
    sts.install()
    app = StackMiddleware(DomainDispatcherApplication(create_backend_app), Faults())
    server = make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=warm_up, daemon=True).start()
    if args.ready_file:
        write_ready(args.ready_file, port, args.host)
    print(f"moto listening on http://{args.host}:{port} after {time.monotonic() - started:.2f} s", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
