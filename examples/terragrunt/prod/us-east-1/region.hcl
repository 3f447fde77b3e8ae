# One Jenkins per region of the account: the controller's EKS cluster (the provider reaches it by
# name and signs its own token) and the Helm release Jenkins runs as.
locals {
  aws_region         = "us-east-1"
  controller_cluster = "controller"
  jenkins_namespace  = "jenkins"
  helm_release       = "jenkins"
}
