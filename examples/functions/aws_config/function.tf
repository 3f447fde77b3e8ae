# The chained profile file jenkins_cross_account_chain puts in its ConfigMap, rendered without it:
# the same checks, as function errors.
output "aws_config" {
  value = provider::jenkins::aws_config({
    base = {
      name     = "prod"
      role_arn = "arn:aws:iam::111111111111:role/jenkins-ci-role"
      region   = "us-east-1"
    }
    hop = [{
      name              = "nonprod"
      role_arn          = "arn:aws:iam::222222222222:role/jenkins-deploy-role"
      source_profile    = "prod"
      role_session_name = "jenkinssession"
      region            = "us-east-1"
    }]
  })
}
