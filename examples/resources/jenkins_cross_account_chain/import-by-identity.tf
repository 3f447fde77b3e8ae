# Adopt the profile chain by its ConfigMap (Terraform 1.12+).
import {
  to = jenkins_cross_account_chain.deploy
  identity = {
    namespace      = "jenkins"
    configmap_name = "awsconfig-configmap"
  }
}
