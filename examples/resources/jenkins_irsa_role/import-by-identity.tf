# Adopt an existing role by name (Terraform 1.12+). `account_id` is checked against the provider's
# credentials before anything is read; leave it out to use theirs.
import {
  to = jenkins_irsa_role.controller
  identity = {
    name       = "jenkins-ci-role"
    account_id = "123456789012"
  }
}
