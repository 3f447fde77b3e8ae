"""Prints the clouds Jenkins runs, as its configuration-as-code export reports them.

Reads JENKINS_URL, JENKINS_USER and JENKINS_API_TOKEN (the same variables the provider reads) and
POSTs /configuration-as-code/export with basic auth, as a script would against a real controller.
"""

import base64
import os
import sys
import urllib.request

import yaml


def export() -> dict:
    url = os.environ["JENKINS_URL"].rstrip("/") + "/configuration-as-code/export"
    auth = base64.b64encode(f"{os.environ['JENKINS_USER']}:{os.environ['JENKINS_API_TOKEN']}".encode()).decode()
    req = urllib.request.Request(url, method="POST", data=b"", headers={"Authorization": f"Basic {auth}"})
    with urllib.request.urlopen(req, timeout=30) as answer:
        return yaml.safe_load(answer.read()) or {}


def main() -> int:
    clouds = (export().get("jenkins") or {}).get("clouds") or []
    if not clouds:
        print("    Jenkins runs no cloud", file=sys.stderr)
        return 1
    for item in clouds:
        cloud = item.get("kubernetes") or {}
        where = cloud.get("serverUrl") or "its own cluster"
        print(f"    cloud {cloud.get('name')!r} in {where}, namespace {cloud.get('namespace') or '(default)'}:")
        for t in cloud.get("templates") or []:
            print(f"      template {t.get('name')!r} id {t.get('id')} label {t.get('label')!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
