# The chained AWS config every build pod mounts: the base profile turns the pod's IRSA token into
# a session of `source_role_arn`, each hop assumes a role (usually in another account) from the
# base or an earlier hop. Hops with `admin_role_arn` get their target role's trust managed through
# that admin role; `grant_source_permission` lets the source role assume its hops' roles.
resource "jenkins_cross_account_chain" "this" {
  configmap_name          = var.configmap_name
  namespace               = var.namespace
  mount_path              = var.mount_path
  aws_profile             = var.aws_profile
  grant_source_permission = var.grant_source_permission

  base {
    name     = var.base_profile
    role_arn = var.source_role_arn
    region   = var.aws_region
  }

  dynamic "hop" {
    for_each = var.hops
    content {
      name              = hop.value.name
      role_arn          = hop.value.role_arn
      source_profile    = coalesce(hop.value.source_profile, var.base_profile)
      role_session_name = hop.value.role_session_name
      region            = coalesce(hop.value.region, var.aws_region)

      dynamic "manage_trust" {
        for_each = hop.value.admin_role_arn == null ? [] : [hop.value.admin_role_arn]
        content {
          admin_role_arn = manage_trust.value
        }
      }
    }
  }
}
