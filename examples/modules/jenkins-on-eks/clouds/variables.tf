variable "controller_cloud" {
  description = "The cloud in the controller's cluster: its name, the agents' namespace, the URL (and optional inbound `host:port` tunnel) agents connect back to, and limits."
  type = object({
    name                 = string
    namespace            = string
    jenkins_url          = string
    jenkins_tunnel       = optional(string)
    container_cap        = optional(number)
    pod_retention        = optional(string, "never")
    wait_for_pod_seconds = optional(number, 600)
  })
}

variable "base_template_name" {
  description = "Name and label of the controller cloud's pod template."
  type        = string
  default     = "base"
}

variable "tools" {
  description = "Tool containers of the base template, name => image and resources; `aws = true` mounts the profile chain into that container and sets `aws_env`."
  type = map(object({
    image  = string
    cpu    = string
    memory = string
    aws    = optional(bool, false)
  }))
}

variable "service_account" {
  description = "The service account base-template pods run as: the irsa-role unit's `service_account_name`."
  type        = string
}

variable "aws_config_map" {
  description = "The ConfigMap with the chained AWS config: the profile-chain unit's `configmap_name`."
  type        = string
}

variable "aws_config_mount_path" {
  description = "Where AWS tool containers mount it: the profile-chain unit's `mount_path`."
  type        = string
  default     = "/etc/aws"
}

variable "aws_env" {
  description = "Environment of AWS tool containers: the profile-chain unit's `container_env`."
  type        = map(string)
}

variable "remote_cloud" {
  description = "A cloud in the remote cluster, from the remote-cluster unit's outputs (`server_url`, `ca_certificate`, `namespace`, `credentials_id`) and the URL agents connect back to; null for none."
  type = object({
    name             = string
    jenkins_url      = string
    server_url       = string
    ca_certificate   = string
    namespace        = string
    credentials_id   = string
    agent_connection = optional(string, "websocket")
  })
  default = null
}

variable "remote_tools" {
  description = "Tool containers of the remote cloud's template, name => image and resources."
  type = map(object({
    image  = string
    cpu    = string
    memory = string
  }))
  default = {}
}
