# The trust jenkins_irsa_role writes, rendered without creating the role: e.g. for a role another
# module owns, or to check a trust in a policy test.
output "jenkins_trust" {
  value = provider::jenkins::irsa_trust(
    ["arn:aws:iam::111111111111:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"],
    [
      { namespace = "jenkins", name = "jenkins" },
      { namespace = "jenkins", name = "jenkins-agent" },
    ],
  )
}
