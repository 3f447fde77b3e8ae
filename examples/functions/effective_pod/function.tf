# The whole pod the Kubernetes plugin creates for one template, on demand rather than in every plan.
resource "jenkins_pod_template" "maven" {
  name   = "maven"
  labels = ["maven"]

  tool_container {
    name  = "maven"
    image = "maven:3.9-eclipse-temurin-17"
  }
}

output "maven_pod" {
  value = provider::jenkins::effective_pod({
    name        = "eks"
    jenkins_url = "http://jenkins.jenkins.svc.cluster.local:8080"
    templates   = [jenkins_pod_template.maven]
  }, "maven")
}
