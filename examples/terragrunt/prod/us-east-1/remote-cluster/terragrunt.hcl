# The second EKS cluster, ready for agents, and its token as the Jenkins credential the remote
# cloud authenticates with. No dependencies.
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../..//modules/jenkins-on-eks/remote-cluster"
}

inputs = {
  eks_cluster_name       = "remote"
  namespace              = "jenkins-agents"
  service_account        = "jenkins-agent-controller"
  credential_id          = "remote-agents"
  credential_description = "Agents in the remote cluster (managed by Terraform)"
}
