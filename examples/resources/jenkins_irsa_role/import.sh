# By IAM role name. The clusters and service accounts are read back from the role's trust (IRSA)
# or, for a Pod Identity role, from the EKS Pod Identity associations that point at it.
terraform import jenkins_irsa_role.controller jenkins-ci-role
