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
  description = "Cloud name => template name => the pod the plugin will create, after inheritance and YAML merge."
  value       = { for c in concat([jenkins_agent_cloud.controller], jenkins_agent_cloud.remote) : c.name => c.effective_pods }
}
