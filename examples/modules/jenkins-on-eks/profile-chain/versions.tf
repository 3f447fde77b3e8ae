terraform {
  required_version = ">= 1.11"

  required_providers {
    jenkins = {
      source  = "registry.terraform.io/jenkins-eks/jenkins"
      version = "~> 0.1"
    }
  }
}
