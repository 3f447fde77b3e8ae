# Every IAM role of the provider's account that EKS workloads assume (IRSA or Pod Identity):
# `terraform query -generate-config-out=roles.tf` writes an `import` block (by identity) and a
# resource block for each, read back from the role's trust, which imports it and then plans no
# change. A role whose trust this resource would not write is left out with a warning.
list "jenkins_irsa_role" "jenkins" {
  provider         = jenkins
  include_resource = true

  config {
    path_prefix = "/"
  }
}
