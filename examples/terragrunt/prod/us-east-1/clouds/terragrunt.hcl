# The clouds: agents in the controller's cluster as the IRSA service account with the profile
# chain mounted, and agents in the remote cluster with its credential. Applies last.
include "root" {
  path = find_in_parent_folders("root.hcl")
}

terraform {
  source = "../../../..//modules/jenkins-on-eks/clouds"
}

# The mocks are known but fake values for `plan` and `validate` before the other units exist: the
# cloud's preflight then warns about what it could not check; the apply (which never uses mocks)
# checks it for real.
dependency "irsa_role" {
  config_path = "../irsa-role"

  mock_outputs = {
    service_account_name = "mock-jenkins-serviceaccount"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "profile_chain" {
  config_path = "../profile-chain"

  mock_outputs = {
    configmap_name = "mock-awsconfig-configmap"
    mount_path     = "/etc/aws"
    container_env = {
      AWS_CONFIG_FILE     = "/etc/aws/config"
      AWS_PROFILE         = "nonprod"
      AWS_SDK_LOAD_CONFIG = "1"
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "remote_cluster" {
  config_path = "../remote-cluster"

  mock_outputs = {
    server_url     = "https://remote.mock.invalid"
    ca_certificate = ""
    namespace      = "jenkins-agents"
    credentials_id = "mock-remote-agents"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

inputs = {
  service_account       = dependency.irsa_role.outputs.service_account_name
  aws_config_map        = dependency.profile_chain.outputs.configmap_name
  aws_config_mount_path = dependency.profile_chain.outputs.mount_path
  aws_env               = dependency.profile_chain.outputs.container_env

  controller_cloud = {
    name           = "eks-agents"
    namespace      = "jenkins"
    jenkins_url    = "http://jenkins.jenkins.svc.cluster.local:8080"
    jenkins_tunnel = "jenkins-agent.jenkins.svc.cluster.local:50000"
    container_cap  = 20
    pod_retention  = "on_failure"
  }
  tools = {
    maven     = { image = "maven:3.9-eclipse-temurin-17", cpu = "1", memory = "2Gi" }
    terraform = { image = "hashicorp/terraform:1.9", cpu = "250m", memory = "256Mi", aws = true }
    aws-cli   = { image = "amazon/aws-cli:2.17.0", cpu = "100m", memory = "256Mi", aws = true }
  }

  remote_cloud = {
    name           = "remote-agents"
    jenkins_url    = "https://jenkins.example.com"
    server_url     = dependency.remote_cluster.outputs.server_url
    ca_certificate = dependency.remote_cluster.outputs.ca_certificate
    namespace      = dependency.remote_cluster.outputs.namespace
    credentials_id = dependency.remote_cluster.outputs.credentials_id
  }
  remote_tools = {
    maven = { image = "maven:3.9-eclipse-temurin-17", cpu = "1", memory = "2Gi" }
  }
}
