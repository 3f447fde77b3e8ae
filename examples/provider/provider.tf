terraform {
  required_providers {
    jenkins = {
      source = "registry.terraform.io/jenkins-eks/jenkins"
    }
  }
}

provider "jenkins" {}
