# The base build pod: one container per tool, each kept alive with `cat` on a TTY so pipeline
# `container('<tool>') { sh '...' }` steps can exec into it.
locals {
  tools = {
    maven      = { image = "maven:3.9-eclipse-temurin-17", cpu = "1", memory = "2Gi" }
    node       = { image = "node:20-alpine", cpu = "500m", memory = "1Gi" }
    python     = { image = "python:3.12-slim", cpu = "500m", memory = "512Mi" }
    golang     = { image = "golang:1.22", cpu = "1", memory = "1Gi" }
    kubectl    = { image = "bitnami/kubectl:1.30", cpu = "100m", memory = "128Mi" }
    terraform  = { image = "hashicorp/terraform:1.9", cpu = "250m", memory = "256Mi" }
    aws-cli    = { image = "amazon/aws-cli:2.17.0", cpu = "100m", memory = "256Mi" }
    docker     = { image = "docker:27-cli", cpu = "250m", memory = "256Mi" }
    kaniko     = { image = "gcr.io/kaniko-project/executor:debug", cpu = "1", memory = "2Gi" }
    ssh-client = { image = "alpine/git:2.45.2", cpu = "50m", memory = "64Mi" }
  }
  # Containers that call AWS see the cross-account profile chain, as
  # `jenkins_cross_account_chain.<x>.container_env` gives it.
  aws_tools = ["terraform", "aws-cli", "kubectl"]
  aws_env = {
    AWS_CONFIG_FILE     = "/etc/aws/config"
    AWS_PROFILE         = "nonprod"
    AWS_SDK_LOAD_CONFIG = "1"
  }
}

resource "jenkins_pod_template" "base" {
  name            = "base"
  labels          = ["base"]
  service_account = "jenkins-serviceaccount"
  node_usage_mode = "NORMAL"

  dynamic "tool_container" {
    for_each = local.tools
    content {
      name     = tool_container.key
      image    = tool_container.value.image
      env      = contains(local.aws_tools, tool_container.key) ? local.aws_env : null
      requests = { cpu = tool_container.value.cpu, memory = tool_container.value.memory }
      limits   = { memory = tool_container.value.memory }
    }
  }

  # The node's Docker socket, for fast image builds in the docker container only. Containerd
  # nodes (EKS since Kubernetes 1.24) have no socket: prefer kaniko there.
  volume {
    name       = "docker-sock-volume"
    host_path  = "/var/run/docker.sock"
    mount_path = "/var/run/docker.sock"
    containers = ["docker"]
  }

  # Scratch space for the AWS SDK's credential cache; it dies with the build pod.
  volume {
    name       = "aws-volume"
    empty_dir  = true
    mount_path = "/root/.aws"
    containers = local.aws_tools
  }

  # The shared AWS config with the prod/nonprod profile chain (`jenkins_cross_account_chain`'s
  # ConfigMap), mounted as a folder outside /root: a `subPath` mount never sees a chain update,
  # and agents running as uid 1000 cannot read /root.
  volume {
    name       = "aws-config-volume"
    config_map = "awsconfig-configmap"
    mount_path = "/etc/aws"
    read_only  = true
    containers = local.aws_tools
  }
}

# A specialised agent: the base pod plus one job-specific container.
resource "jenkins_pod_template" "helm" {
  name                = "base-helm"
  labels              = ["helm"]
  inherit_from        = [jenkins_pod_template.base.name]
  yaml_merge_strategy = "merge"
  idle_minutes        = 20

  tool_container {
    name     = "helm"
    image    = "alpine/helm:3.15.2"
    requests = { cpu = "100m", memory = "128Mi" }
    limits   = { memory = "256Mi" }
  }
}

output "base_definition" {
  value = jenkins_pod_template.base.definition
}
