# The seed's cloud in the controller's own cluster, with the base template and the template that
# inherits from it (see the jenkins_pod_template example). The Helm chart's config-reload sidecar
# loads it into Jenkins without a restart.
resource "jenkins_agent_cloud" "eks" {
  name                 = "eks-agents"
  namespace            = "jenkins"
  jenkins_url          = "http://jenkins.jenkins.svc.cluster.local:8080"
  jenkins_tunnel       = "jenkins-agent.jenkins.svc.cluster.local:50000"
  container_cap        = 20
  pod_retention        = "on_failure"
  pod_labels           = { "jenkins/cloud" = "eks-agents" }
  wait_for_pod_seconds = 300

  templates = [
    jenkins_pod_template.base,
    jenkins_pod_template.helm,
  ]

  # The base template runs as the IRSA role's service account and mounts the profile chain's
  # ConfigMap: with these dependencies one apply creates them first, and the cloud's plan-time
  # preflight knows they are coming (it checks them for real when the apply plans the cloud).
  depends_on = [jenkins_irsa_role.ci, jenkins_cross_account_chain.deploy]
}

# What the plugin will really run for the inherited template: the base pod merged with its own,
# rendered on demand by the provider's function (no plan repeats it) from the cloud and its
# templates (the cloud keeps only their names: the definitions are write-only). Decoded, so when
# it changes a plan shows only what changed in it; `provider::jenkins::cloud_casc(...)` of the
# same argument is the whole JCasC file.
output "helm_agent_pod" {
  value = yamldecode(provider::jenkins::effective_pod(merge(jenkins_agent_cloud.eks, {
    templates = [jenkins_pod_template.base, jenkins_pod_template.helm]
  }), "base-helm"))
}
