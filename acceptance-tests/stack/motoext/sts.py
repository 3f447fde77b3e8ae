"""Session credentials the stack's Kubernetes emulator can verify.

Real EKS checks a `k8s-aws-v1.` token by forwarding its presigned `GetCallerIdentity` to STS, which
knows every session's secret. The emulator cannot ask moto for a secret, so it verifies signatures
with the stack's shared secret instead (`--aws-secret '*=testing'`), and long-term keys already use
it. moto draws a random secret for each assumed-role session; this gives sessions the shared secret
too, so a client that assumes a role and then signs an EKS token with the session (the provider's
`role_arn` connections) authenticates to the emulator as it would to EKS.
"""

from moto.sts import models as sts_models

SHARED_SECRET = "testing"


def install() -> None:
    """Wraps moto's AssumedRole so every new session carries the shared secret."""
    original = sts_models.AssumedRole.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.access_key.secret_access_key = SHARED_SECRET
        self.secret_access_key = SHARED_SECRET

    sts_models.AssumedRole.__init__ = init
