# The Kubernetes-plugin clouds: one in the controller's own cluster, whose base template runs as
# the IRSA service account with the profile chain's AWS config mounted, and optionally one in the
# remote cluster, authenticated by the remote-cluster unit's credential. Each cloud is a ConfigMap
# the Helm chart's config-reload sidecar loads; its preflight dry-runs every pod at plan.
locals {
  aws_tools = [for name, tool in var.tools : name if tool.aws]
}

resource "jenkins_pod_template" "base" {
  name            = var.base_template_name
  labels          = [var.base_template_name]
  service_account = var.service_account
  node_usage_mode = "NORMAL"

  dynamic "tool_container" {
    for_each = var.tools
    content {
      name     = tool_container.key
      image    = tool_container.value.image
      env      = tool_container.value.aws ? var.aws_env : null
      requests = { cpu = tool_container.value.cpu, memory = tool_container.value.memory }
      limits   = { memory = tool_container.value.memory }
    }
  }

  # Scratch space for the AWS SDK's credential cache, and the chain's config as a folder (never a
  # subPath mount, which would not see a chain update).
  dynamic "volume" {
    for_each = length(local.aws_tools) > 0 ? [1] : []
    content {
      name       = "aws-volume"
      empty_dir  = true
      mount_path = "/root/.aws"
      containers = local.aws_tools
    }
  }

  dynamic "volume" {
    for_each = length(local.aws_tools) > 0 ? [1] : []
    content {
      name       = "aws-config-volume"
      config_map = var.aws_config_map
      mount_path = var.aws_config_mount_path
      read_only  = true
      containers = local.aws_tools
    }
  }
}

resource "jenkins_agent_cloud" "controller" {
  name                 = var.controller_cloud.name
  namespace            = var.controller_cloud.namespace
  jenkins_url          = var.controller_cloud.jenkins_url
  jenkins_tunnel       = var.controller_cloud.jenkins_tunnel
  container_cap        = var.controller_cloud.container_cap
  pod_retention        = var.controller_cloud.pod_retention
  wait_for_pod_seconds = var.controller_cloud.wait_for_pod_seconds

  templates = [jenkins_pod_template.base]
}

# Agents in the remote cluster run as its namespace's `default` service account: the IRSA role and
# the chain's ConfigMap exist only in the controller's cluster, so these pods get no AWS access.
resource "jenkins_pod_template" "remote" {
  count = var.remote_cloud == null ? 0 : 1

  name   = "${var.remote_cloud.name}-base"
  labels = [var.remote_cloud.name]

  dynamic "tool_container" {
    for_each = var.remote_tools
    content {
      name     = tool_container.key
      image    = tool_container.value.image
      requests = { cpu = tool_container.value.cpu, memory = tool_container.value.memory }
      limits   = { memory = tool_container.value.memory }
    }
  }
}

resource "jenkins_agent_cloud" "remote" {
  count = var.remote_cloud == null ? 0 : 1

  name                  = var.remote_cloud.name
  server_url            = var.remote_cloud.server_url
  server_ca_certificate = var.remote_cloud.ca_certificate
  namespace             = var.remote_cloud.namespace
  credentials_id        = var.remote_cloud.credentials_id
  jenkins_url           = var.remote_cloud.jenkins_url
  agent_connection      = var.remote_cloud.agent_connection

  templates = [jenkins_pod_template.remote[0]]
}
