# Adopt a cloud this provider wrote, by name, in the provider's Jenkins namespace (Terraform 1.12+).
import {
  to = jenkins_agent_cloud.eks
  identity = {
    name      = "eks-agents"
    namespace = "jenkins"
  }
}
