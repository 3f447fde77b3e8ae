output "configmap_name" {
  description = "The ConfigMap build pods mount (the clouds unit's `aws_config_map`)."
  value       = jenkins_cross_account_chain.this.configmap_name
}

output "mount_path" {
  description = "Where build containers mount it (the clouds unit's `aws_config_mount_path`)."
  value       = jenkins_cross_account_chain.this.mount_path
}

output "container_env" {
  description = "AWS_CONFIG_FILE, AWS_PROFILE and AWS_SDK_LOAD_CONFIG for build containers (the clouds unit's `aws_env`)."
  value       = jenkins_cross_account_chain.this.container_env
}

output "config_ini" {
  description = "The exact AWS config file in the ConfigMap."
  value       = jenkins_cross_account_chain.this.config_ini
}

output "mount_snippet" {
  description = "Pod YAML mounting the ConfigMap with `container_env` set, for hand-written pod templates."
  value       = jenkins_cross_account_chain.this.mount_snippet
}

output "created_roles" {
  description = "Target roles this chain created (deleted on destroy)."
  value       = jenkins_cross_account_chain.this.created_roles
}
