# By `<namespace>/<ConfigMap name>` of the profile-chain ConfigMap; the profiles and the target
# roles' managed trusts are read back from it and from IAM.
terraform import jenkins_cross_account_chain.deploy jenkins/awsconfig-configmap
