//! List and watch query parameters, decoded and validated the way the API server does: booleans
//! with apimachinery's query conversion, integers strictly, and `ListOptions` validation messages.
//! Pure: the server and the list/watch handlers read the result.

use crate::api::Query;
use crate::status::{ApiError, ApiResult, Cause};

/// A boolean query parameter as apimachinery's query conversion reads it
/// (`runtime.Convert_Slice_string_To_bool` in k8s.io/apimachinery `pkg/runtime/conversion.go`):
/// absent, `0` or any capitalisation of `false` is false; anything else, even empty, is true.
/// So the Python client's `watch=True` is a watch, as on a real server.
pub fn query_bool(q: &Query, key: &str) -> bool {
    q.get(key).is_some_and(|v| v != "0" && !v.eq_ignore_ascii_case("false"))
}

fn query_int(q: &Query, key: &str) -> ApiResult<Option<i64>> {
    match q.get(key) {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .map(Some)
            .map_err(|_| ApiError::bad_request(format!("strconv.ParseInt: parsing {v:?}: invalid syntax"))),
    }
}

/// `resourceVersionMatch` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RvMatch {
    /// Unset.
    Unset,
    /// `NotOlderThan`.
    NotOlderThan,
    /// `Exact`.
    Exact,
}

/// The list/watch options of a collection GET.
#[derive(Debug, Clone, PartialEq)]
pub struct ListOptions {
    /// `watch`.
    pub watch: bool,
    /// `allowWatchBookmarks`.
    pub allow_bookmarks: bool,
    /// `sendInitialEvents` (tri-state as in the API).
    pub send_initial_events: Option<bool>,
    /// `resourceVersion` (`""` when unset).
    pub resource_version: String,
    /// `resourceVersionMatch`.
    pub rv_match: RvMatch,
    /// `limit` (0 = no limit).
    pub limit: u64,
    /// `continue` (`""` when unset).
    pub continue_token: String,
    /// `timeoutSeconds`.
    pub timeout_seconds: Option<u64>,
}

/// 422 for `ListOptions`, named by its qualified kind as the real server does.
fn invalid_list_options(causes: Vec<Cause>) -> ApiError {
    let mut e = ApiError::invalid("meta.k8s.io", "ListOptions", "", causes);
    e.message = e.message.replacen("ListOptions", "ListOptions.meta.k8s.io", 1);
    e
}

impl ListOptions {
    /// Decodes and validates; `forced_watch` is set for the `/watch/` path forms.
    /// Validation follows apimachinery `pkg/apis/meta/internalversion/validation/validation.go`.
    pub fn parse(q: &Query, forced_watch: bool) -> ApiResult<Self> {
        let rv_match = match q.get("resourceVersionMatch").map(String::as_str) {
            None | Some("") => RvMatch::Unset,
            Some("NotOlderThan") => RvMatch::NotOlderThan,
            Some("Exact") => RvMatch::Exact,
            Some(other) => {
                return Err(invalid_list_options(vec![Cause {
                    reason: "FieldValueNotSupported".into(),
                    message: format!(
                        "Unsupported value: {other:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
                    ),
                    field: "resourceVersionMatch".into(),
                }]));
            }
        };
        let send_initial_events = q.get("sendInitialEvents").map(|_| query_bool(q, "sendInitialEvents"));
        let limit = query_int(q, "limit")?.unwrap_or(0).max(0) as u64;
        let timeout_seconds = query_int(q, "timeoutSeconds")?.map(|t| t.max(0) as u64);
        let opts = ListOptions {
            watch: forced_watch || query_bool(q, "watch"),
            allow_bookmarks: query_bool(q, "allowWatchBookmarks"),
            send_initial_events,
            resource_version: q.get("resourceVersion").cloned().unwrap_or_default(),
            rv_match,
            limit,
            continue_token: q.get("continue").cloned().unwrap_or_default(),
            timeout_seconds,
        };
        let causes = opts.validate();
        if causes.is_empty() { Ok(opts) } else { Err(invalid_list_options(causes)) }
    }

    fn validate(&self) -> Vec<Cause> {
        let forbidden = |field: &str, detail: &str| Cause::forbidden(field, detail);
        let mut causes = vec![];
        if self.watch {
            match self.send_initial_events {
                Some(true) => {
                    if self.rv_match != RvMatch::NotOlderThan {
                        causes.push(forbidden(
                            "resourceVersionMatch",
                            "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                        ));
                    }
                    if !self.allow_bookmarks {
                        causes.push(forbidden(
                            "allowWatchBookmarks",
                            "allowWatchBookmarks must be set to true when sendInitialEvents is set",
                        ));
                    }
                }
                _ if self.rv_match != RvMatch::Unset => causes.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                )),
                _ => {}
            }
            return causes;
        }
        if self.rv_match != RvMatch::Unset {
            if self.resource_version.is_empty() {
                causes.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if !self.continue_token.is_empty() {
                causes.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden when continue is provided",
                ));
            }
            if self.rv_match == RvMatch::Exact && self.resource_version == "0" {
                causes.push(forbidden(
                    "resourceVersionMatch",
                    "resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
                ));
            }
        }
        if self.send_initial_events.is_some() {
            causes.push(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"));
        }
        causes
    }

    /// The numeric resourceVersion asked for, `None` for unset or `0` (any/most recent).
    pub fn rv_number(&self) -> ApiResult<Option<u64>> {
        match self.resource_version.as_str() {
            "" | "0" => Ok(None),
            rv => rv
                .parse::<u64>()
                .map(Some)
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Query {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn booleans_follow_apimachinery_query_conversion() {
        for v in ["1", "true", "True", "TRUE", "t", "yes", ""] {
            assert!(query_bool(&q(&[("watch", v)]), "watch"), "{v:?} is true");
        }
        for v in ["0", "false", "False", "FALSE", "fAlSe"] {
            assert!(!query_bool(&q(&[("watch", v)]), "watch"), "{v:?} is false");
        }
        assert!(!query_bool(&q(&[]), "watch"));
    }

    #[test]
    fn parses_list_options() {
        let o = ListOptions::parse(
            &q(&[
                ("watch", "True"),
                ("allowWatchBookmarks", "true"),
                ("timeoutSeconds", "60"),
                ("resourceVersion", "7"),
            ]),
            false,
        )
        .unwrap();
        assert!(o.watch && o.allow_bookmarks);
        assert_eq!(o.timeout_seconds, Some(60));
        assert_eq!(o.rv_number().unwrap(), Some(7));
        let o = ListOptions::parse(&q(&[("limit", "2"), ("continue", "abc")]), false).unwrap();
        assert_eq!((o.limit, o.continue_token.as_str(), o.watch), (2, "abc", false));
        assert!(ListOptions::parse(&q(&[]), true).unwrap().watch);
    }

    #[test]
    fn rejects_what_the_server_rejects() {
        let e = ListOptions::parse(&q(&[("limit", "two")]), false).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (400, "strconv.ParseInt: parsing \"two\": invalid syntax"));
        let e = ListOptions::parse(&q(&[("resourceVersionMatch", "NotOlderThan")]), false).unwrap_err();
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message,
            "ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
        );
        let e =
            ListOptions::parse(&q(&[("resourceVersionMatch", "Newest"), ("resourceVersion", "1")]), false).unwrap_err();
        assert!(e.message.contains("Unsupported value: \"Newest\""), "{}", e.message);
        let e = ListOptions::parse(&q(&[("watch", "1"), ("sendInitialEvents", "true")]), false).unwrap_err();
        assert!(e.message.contains("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
        assert!(e.message.contains("allowWatchBookmarks must be set to true"), "{}", e.message);
        assert!(ListOptions::parse(&q(&[("resourceVersion", "abc")]), false).unwrap().rv_number().is_err());
    }
}
