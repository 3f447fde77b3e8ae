variable "eks_cluster_name" {
  description = "The remote EKS cluster; its endpoint and CA come from DescribeCluster."
  type        = string
}

variable "cluster_region" {
  description = "The cluster's region when it is not the provider's."
  type        = string
  default     = null
}

variable "cluster_role_arn" {
  description = "An IAM role to assume before calling EKS, e.g. for a cluster in another account."
  type        = string
  default     = null
}

variable "namespace" {
  description = "The agent namespace in the remote cluster (created, and deleted on destroy)."
  type        = string
}

variable "service_account" {
  description = "The service account Jenkins authenticates as; its Role and RoleBinding share the name."
  type        = string
  default     = "jenkins-agent-controller"
}

variable "extra_rules" {
  description = "Rules added to the Role after the plugin's own, e.g. reading ConfigMaps."
  type = list(object({
    api_groups = optional(list(string))
    resources  = list(string)
    verbs      = list(string)
  }))
  default = []
}

variable "rotate_token_when" {
  description = "Any values; a change issues a new token and moves the credential to it before the old one is deleted."
  type        = map(string)
  default     = null
}

variable "credential_id" {
  description = "The Jenkins credential id (the Secret's name in the controller's namespace)."
  type        = string
}

variable "credential_description" {
  description = "The credential's description in Jenkins; null is the provider's default."
  type        = string
  default     = null
}

variable "credential_scope" {
  description = "`global` (jobs and clouds may use it) or `system` (only Jenkins itself, e.g. clouds)."
  type        = string
  default     = "global"
}
