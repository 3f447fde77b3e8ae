output "arn" {
  description = "The role ARN: the profile chain's base role."
  value       = jenkins_irsa_role.this.arn
}

output "name" {
  description = "The role name."
  value       = jenkins_irsa_role.this.name
}

output "service_account_name" {
  description = "The name of the first listed service account: what agent pods run as to get the role."
  value       = var.service_accounts[0].name
}

output "service_accounts" {
  description = "Every service account that may assume the role (namespace and name)."
  value       = var.service_accounts
}

output "trust_policy" {
  description = "The role's trust policy as rendered (one statement per cluster)."
  value       = jenkins_irsa_role.this.trust_policy
}

output "oidc_provider_arns" {
  description = "Cluster name => its IAM OIDC provider ARN."
  value       = jenkins_irsa_role.this.oidc_provider_arns
}
