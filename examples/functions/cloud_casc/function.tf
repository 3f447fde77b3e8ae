# The JCasC file a cloud would load, e.g. to review it or to hand it to a Jenkins the provider does
# not reach.
resource "jenkins_pod_template" "maven" {
  name   = "maven"
  labels = ["maven"]

  tool_container {
    name  = "maven"
    image = "maven:3.9-eclipse-temurin-17"
  }
}

output "cloud_file" {
  value = provider::jenkins::cloud_casc({
    name        = "eks"
    jenkins_url = "http://jenkins.jenkins.svc.cluster.local:8080"
    templates   = [jenkins_pod_template.maven]
  })
}
