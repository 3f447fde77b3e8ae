output "server_url" {
  description = "The remote API server URL (the clouds unit's `remote_cloud.server_url`)."
  value       = jenkins_remote_cluster_access.this.server_url
}

output "ca_certificate" {
  description = "The remote API server's CA as PEM (`remote_cloud.ca_certificate`)."
  value       = jenkins_remote_cluster_access.this.ca_certificate
}

output "namespace" {
  description = "The agent namespace (`remote_cloud.namespace`)."
  value       = jenkins_remote_cluster_access.this.namespace
}

output "credentials_id" {
  description = "The Jenkins credential holding the token (`remote_cloud.credentials_id`)."
  value       = jenkins_remote_cluster_access.this.credentials_id
}

output "service_account" {
  description = "The service account Jenkins authenticates as in the remote cluster."
  value       = jenkins_remote_cluster_access.this.service_account
}

output "token_sha256" {
  description = "SHA-256 of the service-account token (changes on rotation)."
  value       = jenkins_remote_cluster_access.this.token_sha256
}
