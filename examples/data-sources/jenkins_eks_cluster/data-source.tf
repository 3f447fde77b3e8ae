# A remote cluster's endpoint and CA for a cloud, and its IAM OIDC provider for an IRSA trust.
data "jenkins_eks_cluster" "remote" {
  name = "remote"
}

output "remote_endpoint" {
  value = data.jenkins_eks_cluster.remote.endpoint
}

output "remote_oidc_issuer" {
  value = data.jenkins_eks_cluster.remote.oidc_issuer
}
