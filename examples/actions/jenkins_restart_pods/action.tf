# The Jenkins controller's pods start again whenever its IRSA role is created or its trust or
# service accounts change: EKS injects the role's credentials only into pods created after the
# service account's annotation, so running pods keep the old ones. `terraform apply` runs the
# action after the role's apply and prints the rollout's progress.
action "jenkins_restart_pods" "controller" {
  config {
    namespace       = "jenkins"
    service_account = "jenkins"
    timeout_seconds = 600
  }
}

resource "jenkins_irsa_role" "controller" {
  name             = "jenkins-controller"
  clusters         = ["ci-east"]
  service_accounts = [{ namespace = "jenkins", name = "jenkins" }]

  lifecycle {
    action_trigger {
      events  = [after_create, after_update]
      actions = [action.jenkins_restart_pods.controller]
    }
  }
}

# Also on request: terraform apply -invoke=action.jenkins_restart_pods.controller
