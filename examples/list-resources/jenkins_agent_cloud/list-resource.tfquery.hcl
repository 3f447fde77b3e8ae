# Every cloud this provider wrote in the provider's Jenkins namespace, ready to adopt:
# `terraform query -generate-config-out=clouds.tf` writes an `import` block (by identity) and a
# resource block for each, which imports the cloud and then plans no change. Each template's
# write-only definition is written as the live file holds it (the plugin's JCasC template text);
# move a template into a `jenkins_pod_template` and pass the resource instead when you edit it.
list "jenkins_agent_cloud" "all" {
  provider         = jenkins
  include_resource = true
}

# `config { include_chart_clouds = true }` also shows the clouds the chart's own JCasC defines,
# marked as not this provider's (they cannot be imported): for a plain `terraform query` only.
