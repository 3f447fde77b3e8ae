# Every cloud this provider wrote in the provider's Jenkins namespace, ready to adopt:
# `terraform query -generate-config-out=clouds.tf` writes an `import` block (by identity) and a
# resource block for each. The templates' definitions are write-only, so fill each generated
# cloud's `templates` with the `jenkins_pod_template` resources it runs before applying.
list "jenkins_agent_cloud" "all" {
  provider         = jenkins
  include_resource = true
}
