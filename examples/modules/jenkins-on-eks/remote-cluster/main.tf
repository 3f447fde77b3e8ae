# A second cluster ready for agents: its namespace, a service account with exactly the Kubernetes
# plugin's permissions (plus `extra_rules`), and that account's token as a Jenkins credential in
# the controller's namespace. The token never enters state; only its SHA-256 does.
resource "jenkins_remote_cluster_access" "this" {
  cluster {
    eks_cluster_name = var.eks_cluster_name
    region           = var.cluster_region
    role_arn         = var.cluster_role_arn
  }

  namespace         = var.namespace
  service_account   = var.service_account
  rotate_token_when = var.rotate_token_when

  dynamic "extra_rules" {
    for_each = var.extra_rules
    content {
      api_groups = extra_rules.value.api_groups
      resources  = extra_rules.value.resources
      verbs      = extra_rules.value.verbs
    }
  }

  jenkins_credential {
    id          = var.credential_id
    description = var.credential_description
    scope       = var.credential_scope
  }
}
