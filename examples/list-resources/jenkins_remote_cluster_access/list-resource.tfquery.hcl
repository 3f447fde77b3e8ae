# The agent service accounts this provider made in remote EKS cluster `ci-east`, namespace
# `jenkins-agents` (leave `namespace` out for all of them):
# `terraform query -generate-config-out=remote.tf` writes an `import` block (by identity) and a
# resource block for each, with its namespace, Role rules and Jenkins credential read back, which
# imports it and then plans no change.
list "jenkins_remote_cluster_access" "east" {
  provider         = jenkins
  include_resource = true

  config {
    eks_cluster_name = "ci-east"
    namespace        = "jenkins-agents"
  }
}
