# The build pods' AWS config: `prod` is the IRSA role itself, `nonprod` a deploy role in another
# account whose trust the provider manages through that account's admin role.
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../..//modules/jenkins-on-eks/profile-chain"
}

dependency "irsa_role" {
  config_path = "../irsa-role"

  # Known but fake: a plan before the role exists shows the chain against this ARN.
  mock_outputs = {
    arn = "arn:aws:iam::123456789012:role/mock-jenkins-ci-role"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  source_role_arn         = dependency.irsa_role.outputs.arn
  base_profile            = "prod"
  grant_source_permission = true
  hops = [
    {
      name              = "nonprod"
      role_arn          = "arn:aws:iam::222222222222:role/jenkins-deploy-role"
      role_session_name = "jenkinssession"
      admin_role_arn    = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    },
  ]
}
