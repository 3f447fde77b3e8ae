terraform {
  required_providers {
    jenkins = {
      source = "registry.terraform.io/jenkins-eks/jenkins"
    }
  }
}

# The controller's EKS cluster: endpoint and CA come from DescribeCluster, and the provider signs
# its own token (no AWS CLI, no exec plugin). Jenkins runs in namespace "jenkins", installed by the
# Helm chart as release "jenkins".
provider "jenkins" {
  region = "us-east-1"

  kubernetes {
    eks_cluster_name = "controller"
  }

  jenkins {
    namespace    = "jenkins"
    helm_release = "jenkins"
  }
}
