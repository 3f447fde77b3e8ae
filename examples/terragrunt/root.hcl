# The root of the live layout: every unit includes it with
#   include "root" { path = find_in_parent_folders("root.hcl") }
# It reads the unit's account.hcl and region.hcl, generates the provider block from them, and
# passes their locals to every unit as inputs (Terraform ignores those a module does not declare).
#
# Credentials come from the environment, never from these files: AWS from the standard chain
# (AWS_PROFILE, AWS_ACCESS_KEY_ID..., web identity, or Terragrunt's --iam-assume-role /
# --auth-provider-cmd, which set those variables), Jenkins' API from JENKINS_URL, JENKINS_USER and
# JENKINS_API_TOKEN. Remote state is left to you: add a `remote_state` block here (see README.md).

locals {
  account = read_terragrunt_config(find_in_parent_folders("account.hcl")).locals
  region  = read_terragrunt_config(find_in_parent_folders("region.hcl")).locals
}

generate "provider" {
  path      = "provider.tf"
  if_exists = "overwrite_terragrunt"
  contents  = <<EOF
provider "jenkins" {
  region = "${local.region.aws_region}"

  # `terragrunt run --all plan` plans a unit before the units it depends on have created what
  # their mock_outputs stand for: a pod's missing service account or ConfigMap is then a warning
  # at plan, and still an error at apply, before the cloud's ConfigMap is written.
  missing_objects_at_plan = "warning"

  kubernetes {
    eks_cluster_name = "${local.region.controller_cluster}"
  }

  jenkins {
    namespace    = "${local.region.jenkins_namespace}"
    helm_release = "${local.region.helm_release}"
  }
}
EOF
}

inputs = merge(local.account, local.region)
