# By `<namespace>/<ConfigMap name>` of the profile-chain ConfigMap. The profiles come back from its
# file and the trust and grant settings from its annotation; the target trusts are then read from
# IAM. An admin role's external id is secret and not stored: set it in configuration again.
terraform import jenkins_cross_account_chain.deploy jenkins/awsconfig-configmap
