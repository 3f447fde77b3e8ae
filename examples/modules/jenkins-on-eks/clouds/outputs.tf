output "controller_cloud" {
  description = "The controller cloud's name, its ConfigMap and its template ids (template name => id)."
  value = {
    name           = jenkins_agent_cloud.controller.name
    configmap_name = jenkins_agent_cloud.controller.configmap_name
    template_ids   = jenkins_agent_cloud.controller.template_ids
  }
}

output "remote_cloud" {
  description = "The same for the remote cloud; null without `remote_cloud`."
  value = one([for c in jenkins_agent_cloud.remote : {
    name           = c.name
    configmap_name = c.configmap_name
    template_ids   = c.template_ids
  }])
}

output "effective_pods" {
  description = "Cloud name => template name => the pod the plugin will create, after inheritance and YAML merge (decoded, so a plan shows only what changed in it)."
  value = { for c in concat(
    [merge(jenkins_agent_cloud.controller, { templates = [jenkins_pod_template.base] })],
    [for i, r in jenkins_agent_cloud.remote : merge(r, { templates = [jenkins_pod_template.remote[i]] })],
    ) : c.name => {
    for t in c.templates : t.name => yamldecode(provider::jenkins::effective_pod(c, t.name))
  } }
}
