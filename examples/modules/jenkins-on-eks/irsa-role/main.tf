# Keyless AWS for the Jenkins controller and its agents: an IAM role trusting the service accounts
# of the listed EKS clusters (through each cluster's OIDC issuer), with exclusive policies, and the
# `eks.amazonaws.com/role-arn` annotation on the service accounts of the provider's cluster.
resource "jenkins_irsa_role" "this" {
  name                   = var.name
  description            = var.description
  clusters               = var.clusters
  service_accounts       = var.service_accounts
  managed_policy_arns    = var.managed_policy_arns
  inline_policies        = var.inline_policies
  create_service_account = var.create_service_account
  manage_oidc_provider   = var.manage_oidc_provider
  tags                   = var.tags

  # Terragrunt passes account.hcl's `aws_account_id` to every unit: a role made with another
  # account's credentials (a wrong profile in the environment) fails the apply here.
  lifecycle {
    postcondition {
      condition     = var.aws_account_id == null || split(":", self.arn)[4] == var.aws_account_id
      error_message = "The role ${self.arn} is not in account ${coalesce(var.aws_account_id, "-")} (account.hcl): the AWS credentials in the environment belong to another account. Destroy it with those credentials, then apply with the account's."
    }
  }
}
