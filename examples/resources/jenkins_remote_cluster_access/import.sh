# By `<eks_cluster_name>/<namespace>/<service_account>`; the remote cluster is reached through EKS.
# The existing token and its Jenkins credential are found and kept, so running agents are not cut off.
terraform import jenkins_remote_cluster_access.east ci-east/jenkins-agents/jenkins-agent-controller
