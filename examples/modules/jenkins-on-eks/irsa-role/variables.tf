variable "name" {
  description = "The IAM role name (renaming replaces the role)."
  type        = string
}

variable "description" {
  description = "The IAM role description."
  type        = string
  default     = null
}

variable "clusters" {
  description = "EKS cluster names whose service accounts may assume the role (one trust statement per cluster's OIDC issuer)."
  type        = list(string)
}

variable "service_accounts" {
  description = "Service accounts (namespace and name) that may assume the role; in the provider's cluster they get the role annotation. The first one is `service_account_name`."
  type = list(object({
    namespace = string
    name      = string
  }))
}

variable "managed_policy_arns" {
  description = "Managed policies attached to the role, exclusively (others are detached). Null leaves attachments alone."
  type        = list(string)
  default     = null
}

variable "inline_policies" {
  description = "Inline policies, name => JSON document, exclusively (the profile chain's own `jenkins-chain-*` grant excepted). Null leaves them alone."
  type        = map(string)
  default     = null
}

variable "create_service_account" {
  description = "Create a listed service account that does not exist yet (deleted again on destroy)."
  type        = bool
  default     = false
}

variable "manage_oidc_provider" {
  description = "Create a cluster's IAM OIDC provider when it is missing (shared per cluster, so destroy leaves it)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of the role."
  type        = map(string)
  default     = null
}

variable "aws_account_id" {
  description = "The account the role must be in (Terragrunt passes account.hcl's); null skips the check."
  type        = string
  default     = null
}
