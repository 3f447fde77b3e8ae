# Adopt a remote cluster's agent namespace and service account (Terraform 1.12+). The import
# reaches the cluster through EKS, so `cluster` is its EKS name.
import {
  to = jenkins_remote_cluster_access.east
  identity = {
    cluster         = "ci-east"
    namespace       = "jenkins-agents"
    service_account = "jenkins-agent-controller"
  }
}
