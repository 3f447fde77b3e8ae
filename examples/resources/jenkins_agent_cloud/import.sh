# By cloud name: the cloud's ConfigMap in the provider's Jenkins namespace is read back.
terraform import jenkins_agent_cloud.eks eks-agents
