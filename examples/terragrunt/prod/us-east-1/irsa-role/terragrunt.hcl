# The controller's and agents' IAM role, trusted by the chart's service account in the controller
# cluster, with that service account created and annotated. No dependencies: it applies first.
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../..//modules/jenkins-on-eks/irsa-role"
}

inputs = {
  name        = "jenkins-ci-role"
  description = "Jenkins controller and its build agents"
  clusters    = ["controller"]
  service_accounts = [
    { namespace = "jenkins", name = "jenkins-serviceaccount" },
  ]
  managed_policy_arns    = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  create_service_account = true
  manage_oidc_provider   = true
}
