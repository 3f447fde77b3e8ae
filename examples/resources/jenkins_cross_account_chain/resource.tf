# The seed's two profiles: `prod` authenticates with the pod's IRSA token, `nonprod` assumes a
# deploy role in another account. The provider manages the nonprod role's trust through an admin
# role in that account, and grants the prod role sts:AssumeRole on it.
resource "jenkins_cross_account_chain" "deploy" {
  grant_source_permission = true

  base {
    name     = "prod"
    role_arn = "arn:aws:iam::111111111111:role/jenkins-ci-role"
    region   = "us-east-1"
  }

  hop {
    name              = "nonprod"
    role_arn          = "arn:aws:iam::222222222222:role/jenkins-deploy-role"
    source_profile    = "prod"
    role_session_name = "jenkinssession"
    region            = "us-east-1"

    manage_trust {
      admin_role_arn = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    }
  }
}

# Mount this in build pods (see container_env for AWS_CONFIG_FILE and AWS_PROFILE).
output "aws_config" {
  value = jenkins_cross_account_chain.deploy.config_ini
}

output "pod_snippet" {
  value = jenkins_cross_account_chain.deploy.mount_snippet
}
