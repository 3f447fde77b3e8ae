# What the chart installed: a cloud's agent URLs come from its services instead of being typed.
data "jenkins_controller" "this" {}

resource "jenkins_pod_template" "maven" {
  name   = "maven"
  labels = ["maven"]

  tool_container {
    name  = "maven"
    image = "maven:3.9-eclipse-temurin-17"
  }
}

resource "jenkins_agent_cloud" "eks" {
  name           = "eks"
  jenkins_url    = data.jenkins_controller.this.jenkins_url
  jenkins_tunnel = data.jenkins_controller.this.jenkins_tunnel
  templates      = [jenkins_pod_template.maven]
}
