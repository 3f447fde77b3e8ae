//! Authentication of a request's bearer token: the cluster's admin token (`system:masters`), EKS tokens
//! (`k8s-aws-v1.…`, verified by [`crate::sigv4`] for this cluster's name; the creator is admin), and
//! service-account tokens the cluster issued and has not revoked. Then impersonation
//! (`Impersonate-User`/`Impersonate-Group`), allowed for `system:masters` only.

use crate::cluster::{Cluster, rt};
use crate::rbac::UserInfo;
use crate::status::ApiError;
use serde_json::Value;

/// Name of the built-in admin user.
pub const ADMIN_USER: &str = "kube-emulator:admin";

fn admin(name: String) -> UserInfo {
    UserInfo { name, groups: vec!["system:masters".into(), "system:authenticated".into()] }
}

/// Who a bearer token belongs to.
pub fn authenticate(cluster: &Cluster, authorization: Option<&str>, now: i64) -> Result<UserInfo, ApiError> {
    let token =
        authorization.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim).ok_or_else(ApiError::unauthorized)?;
    if token == cluster.admin_token {
        return Ok(admin(ADMIN_USER.into()));
    }
    if token.starts_with(crate::sigv4::PREFIX) {
        return match crate::sigv4::verify_token(token, &cluster.name, &cluster.aws_secrets, now) {
            Ok(v) if crate::token_clock::expired(&cluster.lock().clock_shifts, &v.access_key, v.signed_at, now) => {
                eprintln!(
                    "kube-emulator[{}]: EKS token of {} rejected: token expired (clock knob)",
                    cluster.name, v.access_key
                );
                Err(ApiError::unauthorized())
            }
            Ok(v) => Ok(admin(format!("arn:aws:iam::000000000000:user/{}", v.access_key))),
            Err(why) => {
                eprintln!("kube-emulator[{}]: EKS token rejected: {why}", cluster.name);
                Err(ApiError::unauthorized())
            }
        };
    }
    let st = cluster.lock();
    let info = st.tokens.get(token).ok_or_else(ApiError::unauthorized)?;
    let uid = |v: Option<&Value>| v.and_then(|o| o.pointer("/metadata/uid")).and_then(Value::as_str).map(String::from);
    let sa_uid = uid(st.store.get(rt("", "serviceaccounts"), &info.namespace, &info.service_account));
    let secret_uid =
        info.secret.as_ref().and_then(|(name, _)| uid(st.store.get(rt("", "secrets"), &info.namespace, name)));
    if crate::tokens::still_valid(info, now, sa_uid.as_deref(), secret_uid.as_deref()) {
        Ok(UserInfo::service_account(&info.namespace, &info.service_account))
    } else {
        Err(ApiError::unauthorized())
    }
}

/// Applies impersonation headers: the requester must be a member of `system:masters`.
pub fn impersonate(requester: UserInfo, user: Option<&str>, groups: Vec<String>) -> Result<UserInfo, ApiError> {
    let Some(user) = user else {
        if groups.is_empty() {
            return Ok(requester);
        }
        return Err(ApiError::new(500, "InternalError", "requested impersonation of groups without a user"));
    };
    if !requester.is_master() {
        return Err(ApiError::forbidden(
            "",
            "users",
            user,
            format!(
                "users {user:?} is forbidden: User {:?} cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
                requester.name
            ),
        ));
    }
    let mut info = match user.strip_prefix("system:serviceaccount:").and_then(|r| r.split_once(':')) {
        Some((ns, name)) if groups.is_empty() => UserInfo::service_account(ns, name),
        _ => UserInfo { name: user.to_string(), groups },
    };
    if !info.groups.iter().any(|g| g == "system:authenticated") {
        info.groups.push("system:authenticated".into());
    }
    Ok(info)
}
