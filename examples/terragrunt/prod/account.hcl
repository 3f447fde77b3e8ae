# The AWS account this folder's units apply to. The irsa-role unit checks that the role it made is
# in this account, so credentials of another account in the environment show up at once.
locals {
  account_name   = "prod"
  aws_account_id = "123456789012"
}
