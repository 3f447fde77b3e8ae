# The controller's role: trusted by its service account in the `controller` cluster, with
# read access to one bucket, and the annotation written on the Helm chart's service account.
resource "jenkins_irsa_role" "controller" {
  name        = "jenkins-ci-role"
  description = "Jenkins controller and its agents"
  clusters    = ["controller"]

  service_accounts = [
    { namespace = "jenkins", name = "jenkins-serviceaccount" },
  ]

  managed_policy_arns = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  inline_policies = {
    artifacts = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:PutObject"]
        Resource = "arn:aws:s3:::ci-artifacts/*"
      }]
    })
  }

  create_service_account = true
  manage_oidc_provider   = true
  tags                   = { team = "ci" }
}
