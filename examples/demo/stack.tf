# The rest of the seed's Jenkins-on-EKS stack, wired for the local stack that `make demo` starts:
# EKS clusters "controller" and "remote" (emulated), AWS account 123456789012 for CI and
# 222222222222 for deployments.

# Keyless AWS for the controller and its agents: the IAM role, its OIDC trust and the annotation
# on the Helm chart's service account.
resource "jenkins_irsa_role" "ci" {
  name        = "jenkins-ci-role"
  description = "Jenkins controller and its build agents"
  clusters    = ["controller"]

  service_accounts = [
    { namespace = "jenkins", name = "jenkins-serviceaccount" },
  ]

  managed_policy_arns    = ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
  create_service_account = true
  manage_oidc_provider   = true
}

# The seed's profile chain: `prod` is the IRSA role itself, `nonprod` a deploy role in another
# account whose trust this provider manages through that account's admin role.
resource "jenkins_cross_account_chain" "deploy" {
  grant_source_permission = true

  base {
    name     = "prod"
    role_arn = jenkins_irsa_role.ci.arn
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

# A second cluster for agents, its token delivered to Jenkins as a credential (never in state),
# and a cloud that runs agents there over WebSocket.
resource "jenkins_remote_cluster_access" "remote" {
  cluster {
    eks_cluster_name = "remote"
  }
  namespace       = "jenkins-agents"
  service_account = "jenkins-agent-controller"

  jenkins_credential {
    id          = "remote-agents"
    description = "Agents in the remote cluster (managed by Terraform)"
  }
}

# Agents in the remote cluster run as its namespace's `default` service account. The controller's
# `jenkins-serviceaccount`, the IRSA role (which trusts only the controller cluster's issuer) and the
# profile-chain ConfigMap exist only in the controller's cluster, so these agents get no AWS access:
# left out on purpose. A pod naming them there would never start; the cloud's preflight says so at plan.
resource "jenkins_pod_template" "remote" {
  name   = "remote-base"
  labels = ["remote"]

  tool_container {
    name     = "maven"
    image    = "maven:3.9-eclipse-temurin-17"
    requests = { cpu = "1", memory = "2Gi" }
    limits   = { memory = "2Gi" }
  }
}

resource "jenkins_agent_cloud" "remote" {
  name                  = "remote-agents"
  server_url            = jenkins_remote_cluster_access.remote.server_url
  server_ca_certificate = jenkins_remote_cluster_access.remote.ca_certificate
  namespace             = jenkins_remote_cluster_access.remote.namespace
  credentials_id        = jenkins_remote_cluster_access.remote.credentials_id
  jenkins_url           = "https://jenkins.example.com"
  agent_connection      = "websocket"

  templates = [jenkins_pod_template.remote]
}

# Every cloud's effective pods (cloud name => template name => pod), for the demo's own kubectl
# dry run: rendered by the provider's function from the applied clouds, not kept in their state.
output "effective_pods" {
  value = { for c in [
    merge(jenkins_agent_cloud.eks, { templates = [jenkins_pod_template.base, jenkins_pod_template.helm] }),
    merge(jenkins_agent_cloud.remote, { templates = [jenkins_pod_template.remote] }),
    ] : c.name => {
    for t in c.templates : t.name => yamldecode(provider::jenkins::effective_pod(c, t.name))
  } }
}
