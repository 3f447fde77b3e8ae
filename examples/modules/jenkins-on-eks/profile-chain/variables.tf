variable "source_role_arn" {
  description = "The role the pod's IRSA token becomes: the irsa-role unit's `arn`."
  type        = string
}

variable "base_profile" {
  description = "Name of the base profile (`default` renders as `[default]`)."
  type        = string
  default     = "default"
}

variable "aws_region" {
  description = "Region of every profile (profiles do not inherit it); Terragrunt passes region.hcl's."
  type        = string
}

variable "hops" {
  description = "Chained profiles, in order. `source_profile` defaults to the base profile, `region` to `aws_region`; with `admin_role_arn` the provider creates the target role or rewrites its trust through that role of the target account."
  type = list(object({
    name              = string
    role_arn          = string
    source_profile    = optional(string)
    role_session_name = optional(string)
    region            = optional(string)
    admin_role_arn    = optional(string)
  }))
  default = []
}

variable "grant_source_permission" {
  description = "Put an inline policy `jenkins-chain-*` on each hop's source role allowing `sts:AssumeRole` on its hops' roles."
  type        = bool
  default     = false
}

variable "aws_profile" {
  description = "The profile `container_env` selects; null is the last hop."
  type        = string
  default     = null
}

variable "configmap_name" {
  description = "Name of the ConfigMap holding the file (key `config`)."
  type        = string
  default     = "awsconfig-configmap"
}

variable "namespace" {
  description = "Namespace of the ConfigMap; null is the provider's Jenkins namespace."
  type        = string
  default     = null
}

variable "mount_path" {
  description = "The directory build containers mount the ConfigMap at (keep it outside /root)."
  type        = string
  default     = "/etc/aws"
}
