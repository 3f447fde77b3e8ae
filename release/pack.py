#!/usr/bin/env python3
"""Packs the provider binary as Terraform's installers expect it, and installs the package.

One implementation for `make release`, `make install`, `make demo` and the acceptance tests
(they pack the debug binary the test run built). Standard library only.

  pack.py pack --binary PATH --out DIR [--version V] [--platform linux_amd64] [--gpg-key KEY]
              [--compress-level 0-9]
  pack.py install --dist DIR --plugins ~/.terraform.d/plugins [--version V] [--platform ...]

`pack` writes into DIR (names as the public registry's publishing pipeline has them,
hashicorp/terraform-provider-scaffolding-framework `.goreleaser.yml`):
  terraform-provider-jenkins_<v>_<platform>.zip     the binary as terraform-provider-jenkins_v<v>
  terraform-provider-jenkins_<v>_manifest.json      {"version": 1, "metadata": {"protocol_versions": ["6.0"]}}
  terraform-provider-jenkins_<v>_SHA256SUMS         sha256sum format, the zip and the manifest
  terraform-provider-jenkins_<v>_SHA256SUMS.sig     detached GPG signature, when --gpg-key is given
  mirror/<host>/<ns>/<type>/terraform-provider-jenkins_<v>_<platform>.zip   packed filesystem mirror
  mirror/<host>/<ns>/<type>/index.json, <v>.json    network-mirror protocol, with h1: and zh: hashes
and prints the zip's SHA-256. The zip is reproducible: one entry, fixed time, mode and attributes.

`install` unpacks the zip into the unpacked layout <plugins>/<host>/<ns>/<type>/<v>/<platform>/,
the implied local mirror Terraform and OpenTofu search without any CLI configuration.

Layouts and hashes: Terraform's config-file.mdx (filesystem_mirror), provider-network-mirror-
protocol.mdx and internal/getproviders/hash.go (h1: is Go's dirhash.Hash1 over the package's
files; zh: the hex SHA-256 of the zip), as summarised in ../shared/reference/ecosystem.md §2.
"""

import argparse
import base64
import hashlib
import io
import json
import pathlib
import shutil
import subprocess
import sys
import tomllib
import zipfile

HOST, NAMESPACE, TYPE = "registry.terraform.io", "jenkins-eks", "jenkins"
NAME = f"terraform-provider-{TYPE}"
ROOT = pathlib.Path(__file__).resolve().parent.parent
# 1980-01-01, the earliest time a zip entry can carry: no build's clock leaks into the archive.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def cargo_version() -> str:
    """The [package] version of the provider's Cargo.toml: the one version everything carries."""
    with open(ROOT / "Cargo.toml", "rb") as f:
        return tomllib.load(f)["package"]["version"]


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def h1_hash(files: dict[str, bytes]) -> str:
    """Go's dirhash.Hash1: sha256 over "<hex sha256>  <name>\\n" lines of the sorted file names."""
    summary = "".join(f"{sha256_hex(files[name])}  {name}\n" for name in sorted(files))
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def zip_bytes(entry: str, data: bytes, level: int) -> bytes:
    """A one-file zip with everything that could vary between builds fixed."""
    info = zipfile.ZipInfo(entry, date_time=ZIP_TIME)
    info.create_system = 3  # Unix, so the mode below is honoured by unzip and Terraform
    info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x
    info.compress_type = zipfile.ZIP_DEFLATED
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=level)
    return buf.getvalue()


def zip_files(archive: pathlib.Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}


def names(version: str, platform: str) -> dict[str, str]:
    base = f"{NAME}_{version}"
    return {
        "zip": f"{base}_{platform}.zip",
        "binary": f"{NAME}_v{version}",
        "sums": f"{base}_SHA256SUMS",
        "manifest": f"{base}_manifest.json",
    }


def write(path: pathlib.Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def json_bytes(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True) + "\n").encode()


def pack(binary: pathlib.Path, out: pathlib.Path, version: str, platform: str, gpg_key: str | None, level: int = 9) -> str:
    n = names(version, platform)
    payload = binary.read_bytes()
    archive = zip_bytes(n["binary"], payload, level)
    zip_sha = sha256_hex(archive)
    write(out / n["zip"], archive)
    # The registry manifest: protocol 6 only, so Terraform < 0.15 does not pick the package.
    manifest = json_bytes({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
    write(out / n["manifest"], manifest)
    sums = f"{zip_sha}  {n['zip']}\n{sha256_hex(manifest)}  {n['manifest']}\n"
    write(out / n["sums"], sums.encode())
    sig = out / f"{n['sums']}.sig"
    if sig.exists():
        sig.unlink()
    if gpg_key:
        subprocess.run(
            ["gpg", "--batch", "--yes", "--local-user", gpg_key, "--detach-sign", "--output", str(sig), str(out / n["sums"])],
            check=True,
        )
    mirror = out / "mirror" / HOST / NAMESPACE / TYPE
    write(mirror / n["zip"], archive)
    hashes = [h1_hash({n["binary"]: payload}), f"zh:{zip_sha}"]
    write(mirror / "index.json", json_bytes({"versions": {version: {}}}))
    write(mirror / f"{version}.json", json_bytes({"archives": {platform: {"url": n["zip"], "hashes": hashes}}}))
    return zip_sha


def install(dist: pathlib.Path, plugins: pathlib.Path, version: str, platform: str) -> pathlib.Path:
    n = names(version, platform)
    archive = dist / n["zip"]
    if not archive.is_file():
        sys.exit(f"{archive} is missing: run `make release` first")
    target = plugins / HOST / NAMESPACE / TYPE / version / platform
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name, data in zip_files(archive).items():
        write(target / name, data)
        (target / name).chmod(0o755)
    return target


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--binary", required=True, type=pathlib.Path)
    p.add_argument("--out", required=True, type=pathlib.Path)
    p.add_argument("--gpg-key")
    # The tests pack a 150 MB debug binary: level 1 there, 9 (the default) for releases.
    p.add_argument("--compress-level", type=int, default=9, choices=range(0, 10))
    i = sub.add_parser("install")
    i.add_argument("--dist", required=True, type=pathlib.Path)
    i.add_argument("--plugins", required=True, type=pathlib.Path)
    for s in (p, i):
        s.add_argument("--version", default=None)
        s.add_argument("--platform", default="linux_amd64")
    a = ap.parse_args()
    version = a.version or cargo_version()
    if a.cmd == "pack":
        zip_sha = pack(a.binary, a.out, version, a.platform, a.gpg_key, a.compress_level)
        print(f"{zip_sha}  {a.out / names(version, a.platform)['zip']}")
    else:
        target = install(a.dist, a.plugins, version, a.platform)
        print(f"installed {NAME} {version} ({a.platform}) in {target}")


if __name__ == "__main__":
    main()
