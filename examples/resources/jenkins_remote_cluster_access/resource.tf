# The seed's remote cluster: an agent namespace in EKS cluster "ci-east", a service account with
# exactly the Kubernetes plugin's permissions, and its token delivered to Jenkins as a credential.
# The token never enters Terraform state; only its SHA-256 does.
resource "jenkins_remote_cluster_access" "east" {
  cluster {
    eks_cluster_name = "ci-east"
    region           = "us-east-2"
  }
  namespace       = "jenkins-agents"
  service_account = "jenkins-agent-controller"

  # Builds may also read ConfigMaps in the agent namespace.
  extra_rules {
    resources = ["configmaps"]
    verbs     = ["get", "list", "watch"]
  }

  # Change a value to issue a new token: the credential moves to it before the old one is deleted.
  rotate_token_when = { rotated = "2025-06" }

  jenkins_credential {
    id          = "ci-east-agents"
    description = "Agents in ci-east (managed by Terraform)"
    scope       = "system"
  }
}

# Agents there run as that namespace's `default` service account: the controller's service account
# (and its IRSA role and AWS config ConfigMap) exist only in the controller's cluster, and a pod
# naming them would never start here. The cloud's preflight checks this at plan.
resource "jenkins_pod_template" "east" {
  name   = "east"
  labels = ["east"]

  tool_container {
    name     = "maven"
    image    = "maven:3.9-eclipse-temurin-17"
    requests = { cpu = "1", memory = "2Gi" }
    limits   = { memory = "2Gi" }
  }
}

# A cloud that runs agents there, connecting back over WebSocket.
resource "jenkins_agent_cloud" "east" {
  name                  = "ci-east"
  server_url            = jenkins_remote_cluster_access.east.server_url
  server_ca_certificate = jenkins_remote_cluster_access.east.ca_certificate
  namespace             = jenkins_remote_cluster_access.east.namespace
  credentials_id        = jenkins_remote_cluster_access.east.credentials_id
  jenkins_url           = "https://jenkins.example.com"
  agent_connection      = "websocket"

  templates = [jenkins_pod_template.east]
}
