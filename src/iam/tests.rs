//! Tests of the IAM core, each case written from the rule it checks.

use expect_test::{Expect, expect};

use super::*;

const PROVIDER: &str = "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
const ISSUER: &str = "https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF";
const SOURCE: &str = "arn:aws:iam::111122223333:role/jenkins-agent";
const TARGET: &str = "arn:aws:iam::444455556666:role/jenkins-deploy";

fn subjects(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn cluster(n: usize, subs: &[&str]) -> ClusterSubject {
    let issuer = format!("oidc.eks.eu-west-1.amazonaws.com/id/{n:032X}");
    let arn = format!("arn:aws:iam::111122223333:oidc-provider/{issuer}");
    ClusterSubject::new(&arn, &format!("https://{issuer}"), &subjects(subs)).unwrap()
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as IAM returns documents.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn check(actual: impl std::fmt::Display, expect: Expect) {
    expect.assert_eq(&actual.to_string());
}

// ---------------------------------------------------------------- documents

#[test]
fn parse_accepts_every_element_form() {
    let doc = parse_policy(
        r#"{"Version":"2012-10-17","Id":"x","Statement":{"Sid":"A","Effect":"Allow",
            "Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:role/r"],"Service":"ec2.amazonaws.com"},
            "Action":"sts:AssumeRole",
            "Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"s3:max-keys":[10,"20"]}}}}"#,
    )
    .unwrap();
    assert_eq!(doc.statements.len(), 1);
    let s = &doc.statements[0];
    assert_eq!(s.principal.as_ref().unwrap().values("AWS").len(), 2);
    assert_eq!(s.conditions[0].values, vec!["true"]);
    assert_eq!(s.conditions[1].values, vec!["10", "20"]);
    assert_eq!(doc.effective_version(), "2012-10-17");
    let no_version =
        parse_policy(r#"{"Statement":[{"Effect":"Deny","NotAction":"iam:*","NotResource":"*"}]}"#).unwrap();
    assert_eq!(no_version.effective_version(), "2008-10-17");
}

#[test]
fn parse_errors_name_the_element() {
    let cases = [
        ("", expect![[r#"policy element (document): the policy is empty; write a JSON object with a Statement"#]]),
        ("[]", expect![[r#"policy element (document): a policy is a JSON object with Version and Statement"#]]),
        (
            "{",
            expect![[r#"policy is not valid JSON (line 1, column 1): EOF while parsing an object at line 1 column 1"#]],
        ),
        (
            r#"{"Version":"2012-10-17"}"#,
            expect![[r#"policy element Statement: missing; a policy needs at least one statement"#]],
        ),
        (r#"{"Statement":[]}"#, expect![[r#"policy element Statement: empty; a policy needs at least one statement"#]]),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            expect![[r#"policy element Version: "2012-10-18" is not a policy version; use "2012-10-17""#]],
        ),
        (
            r#"{"statement":[]}"#,
            expect![[
                r#"policy element statement: unknown element; element names are case-sensitive, write "Statement""#
            ]],
        ),
        (
            r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Permit","Action":"s3:*"}]}"#,
            expect![[r#"policy element Statement[1].Effect: must be "Allow" or "Deny""#]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            expect![[r#"policy element Statement: the statement needs Action (or NotAction)"#]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}}"#,
            expect![[r#"policy element Statement: has both Action and NotAction; keep one"#]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":[]}}"#,
            expect![[
                r#"policy element Statement.Resource: is an empty list, which IAM rejects; list at least one value or remove it"#
            ]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":["s3:*",3],"Resource":"*"}}"#,
            expect![[r#"policy element Statement.Action[1]: must be a string"#]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"arn:aws:iam::111122223333:root"}}"#,
            expect![[
                r#"policy element Statement.Principal: must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:role/name"}"#
            ]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Aws":"*"}}}"#,
            expect![[
                r#"policy element Statement.Principal.Aws: unknown principal type; use AWS, Federated, Service or CanonicalUser"#
            ]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k":{"a":1}}}}}"#,
            expect![[
                r#"policy element Statement.Condition.StringEquals.k: must be a string, number, boolean or a list of them"#
            ]],
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":"k"}}}"#,
            expect![[
                r#"policy element Statement.Condition.StringEquals: must be an object of condition key to value(s)"#
            ]],
        ),
        ("%7B%2", expect![[r#"policy is URL-encoded but does not decode: bad escape at byte 3: expected %XX"#]]),
    ];
    for (input, want) in cases {
        check(parse_policy(input).unwrap_err(), want);
    }
}

#[test]
fn trust_and_identity_shapes() {
    let identity = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}"#;
    check(
        parse_identity_policy(identity).unwrap_err(),
        expect![[r#"policy element Statement: the statement needs Resource (use "*" for all resources)"#]],
    );
    let trust = r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    check(
        parse_trust_policy(trust).unwrap_err(),
        expect![[
            r#"policy element Statement[1]: a trust policy statement needs a Principal (who may assume the role)"#
        ]],
    );
    assert!(parse_trust_policy(&pod_identity_trust()).is_ok());
    assert!(parse_identity_policy(&assume_role_permission(&[TARGET]).unwrap()).is_ok());
    check(
        parse_identity_policy(&pod_identity_trust()).unwrap_err(),
        expect![[
            r#"policy element Statement: an identity policy statement must not have Principal; the principal is the role it is attached to"#
        ]],
    );
}

#[test]
fn url_encoded_documents_decode() {
    let plain = irsa_trust(&[cluster(1, &["system:serviceaccount:jenkins:jenkins"])]);
    let encoded = url_encode(&plain);
    assert!(encoded.starts_with("%7B"));
    assert_eq!(decode_policy_text(&encoded).unwrap(), plain);
    assert!(equivalent(&encoded, &plain).unwrap());
    // `+` is a name character, not a space: it survives decoding.
    let plus = r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::111122223333:role/a+b"}}}"#;
    let mut half = url_encode(plus);
    half = half.replace("%2B", "+");
    assert_eq!(decode_policy_text(&half).unwrap(), plus);
    // Plain text with a percent sign inside is left alone.
    let pct = r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/100%25"}}"#;
    assert_eq!(decode_policy_text(pct).unwrap(), pct);
    check(
        decode_policy_text("%7B%FF%FE").unwrap_err(),
        expect![[r#"policy is URL-encoded but does not decode: decoded bytes are not UTF-8"#]],
    );
}

// ---------------------------------------------------------------- equivalence

#[test]
fn equivalence_by_meaning() {
    let base = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::444455556666:role/x"]},
         "Action":["sts:AssumeRole","sts:TagSession"],
         "Condition":{"StringEquals":{"sts:ExternalId":"abc"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}},
        {"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
    let cases: &[(&str, &str, bool)] = &[
        ("identical", base, true),
        (
            "statement order, list order, whitespace, key order, account id, action case, condition key case, bool",
            r#"{"Statement":[{"Resource":["*"],"Action":"s3:deletebucket","Effect":"Deny"},
                {"Condition":{"Bool":{"AWS:MultiFactorAuthPresent":true},"StringEquals":{"STS:EXTERNALID":["abc","abc"]}},
                 "Action":["STS:TagSession","sts:assumerole","sts:AssumeRole"],
                 "Principal":{"AWS":["arn:aws:iam::444455556666:role/x","111122223333"]},"Effect":"Allow"}],
               "Version":"2012-10-17"}"#,
            true,
        ),
        ("condition value case matters", &base.replace("\"abc\"", "\"ABC\""), false),
        ("resource case matters", &base.replace("\"Resource\":\"*\"", "\"Resource\":\"arn:aws:s3:::B\""), false),
        ("a different Sid", &base.replace("{\"Effect\":\"Deny\"", "{\"Sid\":\"d\",\"Effect\":\"Deny\""), false),
        (
            "a role ARN is not its unique id",
            &base.replace("arn:aws:iam::444455556666:role/x", "AROAEXAMPLEID1234567"),
            false,
        ),
        ("an extra action", &base.replace("\"sts:TagSession\"", "\"sts:TagSession\",\"sts:SetSourceIdentity\""), false),
        (
            "a dropped statement",
            &base.replace(",\n        {\"Effect\":\"Deny\",\"Action\":\"s3:DeleteBucket\",\"Resource\":\"*\"}", ""),
            false,
        ),
        ("Effect is an element value", &base.replace("\"Deny\"", "\"DENY\""), true),
        ("Version absent means 2008-10-17", &base.replace("\"Version\":\"2012-10-17\",", ""), false),
    ];
    for (name, other, want) in cases {
        assert_eq!(equivalent(base, other).unwrap(), *want, "{name}");
        assert_eq!(equivalent(other, base).unwrap(), *want, "{name} (swapped)");
    }
    let v2008 = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let none = r#"{"Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"*"}]}"#;
    assert!(equivalent(v2008, none).unwrap());
    let star = r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"}}"#;
    let aws_star = r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["*"]}}}"#;
    assert!(equivalent(star, aws_star).unwrap());
    let num = r#"{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":10}}}}"#;
    assert!(equivalent(num, &num.replace(":10}", ":\"10\"}")).unwrap());
    assert!(equivalent(num, "{").is_err());
}

#[test]
fn canonical_form_is_sorted_and_compact() {
    let doc = r#"{"Statement":[{"Effect":"Allow","Action":["sts:TagSession","STS:AssumeRole"],
        "Principal":{"Service":"pods.eks.amazonaws.com","AWS":"arn:aws-cn:iam::111122223333:root"},
        "Condition":{"StringLike":{"AWS:RequestTag/kubernetes-namespace":["b","a"]}}}],"Id":"i"}"#;
    check(
        canonical_text(doc).unwrap(),
        expect![[
            r#"{"Id":"i","Statement":[{"Action":["sts:assumerole","sts:tagsession"],"Condition":{"StringLike":{"aws:requesttag/kubernetes-namespace":["a","b"]}},"Effect":"Allow","Principal":{"AWS":["111122223333"],"Service":["pods.eks.amazonaws.com"]}}],"Version":"2008-10-17"}"#
        ]],
    );
    assert_eq!(canonical_text(doc).unwrap(), canonical_text(&url_encode(doc)).unwrap());
}

#[test]
fn prior_spelling_is_kept_when_equivalent() {
    let prior = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"111122223333"}}]}"#;
    let remote = url_encode(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#,
    );
    assert_eq!(keep_prior_if_equivalent(Some(prior), &remote).unwrap(), prior);
    let changed = url_encode(&prior.replace("111122223333", "444455556666"));
    assert_eq!(keep_prior_if_equivalent(Some(prior), &changed).unwrap(), prior.replace("111122223333", "444455556666"));
    assert_eq!(keep_prior_if_equivalent(Some("not json"), &remote).unwrap(), decode_policy_text(&remote).unwrap());
    assert_eq!(keep_prior_if_equivalent(None, prior).unwrap(), prior);
}

// ---------------------------------------------------------------- trust builders

#[test]
fn irsa_trust_one_cluster_exact_subjects() {
    let c = ClusterSubject::new(
        PROVIDER,
        ISSUER,
        &subjects(&[
            "system:serviceaccount:jenkins:jenkins",
            "system:serviceaccount:jenkins:agent",
            "system:serviceaccount:jenkins:jenkins",
        ]),
    )
    .unwrap();
    check(
        irsa_trust(&[c]),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {
                "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"
              },
              "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {
                "StringEquals": {
                  "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF:sub": [
                    "system:serviceaccount:jenkins:agent",
                    "system:serviceaccount:jenkins:jenkins"
                  ],
                  "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF:aud": "sts.amazonaws.com"
                }
              }
            }
          ]
        }"#]],
    );
}

#[test]
fn irsa_trust_wildcards_use_string_like_and_many_clusters_get_a_statement_each() {
    let a = cluster(1, &["system:serviceaccount:jenkins:*"]);
    let b = cluster(2, &["system:serviceaccount:jenkins:jenkins"]);
    check(
        irsa_trust(&[a, b]),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {
                "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000001"
              },
              "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {
                "StringEquals": {
                  "oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000001:aud": "sts.amazonaws.com"
                },
                "StringLike": {
                  "oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000001:sub": "system:serviceaccount:jenkins:*"
                }
              }
            },
            {
              "Effect": "Allow",
              "Principal": {
                "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000002"
              },
              "Action": "sts:AssumeRoleWithWebIdentity",
              "Condition": {
                "StringEquals": {
                  "oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000002:sub": "system:serviceaccount:jenkins:jenkins",
                  "oidc.eks.eu-west-1.amazonaws.com/id/00000000000000000000000000000002:aud": "sts.amazonaws.com"
                }
              }
            }
          ]
        }"#]],
    );
}

#[test]
fn cluster_subject_validation() {
    let ok = subjects(&["system:serviceaccount:jenkins:jenkins"]);
    assert!(ClusterSubject::new(PROVIDER, "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF/", &ok).is_ok());
    let cases = [
        (
            PROVIDER,
            "https://oidc.eks.us-east-1.amazonaws.com/id/FFFF",
            ok.clone(),
            expect![[
                r#"invalid OIDC provider ARN "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF": it is the provider of issuer "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF", but the cluster's issuer is "oidc.eks.us-east-1.amazonaws.com/id/FFFF"; use the provider created for that cluster's issuer"#
            ]],
        ),
        (
            "arn:aws:iam::111122223333:role/x",
            ISSUER,
            ok.clone(),
            expect![[
                r#"invalid OIDC provider ARN "arn:aws:iam::111122223333:role/x": expected arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            vec![],
            expect![[
                r#"invalid service-account subjects "[]": list at least one system:serviceaccount:<namespace>:<name>"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            subjects(&["jenkins:jenkins"]),
            expect![[
                r#"invalid service-account subject "jenkins:jenkins": must be system:serviceaccount:<namespace>:<name>"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            subjects(&["system:serviceaccount:Jenkins:jenkins"]),
            expect![[
                r#"invalid service-account subject "system:serviceaccount:Jenkins:jenkins": the namespace must be a DNS label: up to 63 lowercase letters, digits and '-', starting and ending alphanumeric"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            subjects(&["system:serviceaccount:jenkins:jenkins_sa"]),
            expect![[
                r#"invalid service-account subject "system:serviceaccount:jenkins:jenkins_sa": the service-account name must be a DNS subdomain: up to 253 lowercase letters, digits, '-' and '.'"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            subjects(&["system:serviceaccount:jenkins"]),
            expect![[
                r#"invalid service-account subject "system:serviceaccount:jenkins": must be system:serviceaccount:<namespace>:<name>"#
            ]],
        ),
        (
            PROVIDER,
            ISSUER,
            subjects(&["system:serviceaccount:jen kins:*"]),
            expect![[
                r#"invalid service-account subject "system:serviceaccount:jen kins:*": may contain only lowercase letters, digits, '-', '.', ':', '*' and '?'"#
            ]],
        ),
    ];
    for (arn, issuer, subs, want) in cases {
        check(ClusterSubject::new(arn, issuer, &subs).unwrap_err(), want);
    }
    assert_eq!(
        service_account_subject("jenkins", "jenkins.agent").unwrap(),
        "system:serviceaccount:jenkins:jenkins.agent"
    );
    assert!(service_account_subject("-x", "a").is_err());
    assert!(service_account_subject(&"a".repeat(64), "a").is_err());
}

#[test]
fn pod_identity_trust_document() {
    check(
        pod_identity_trust(),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {
                "Service": "pods.eks.amazonaws.com"
              },
              "Action": [
                "sts:AssumeRole",
                "sts:TagSession"
              ]
            }
          ]
        }"#]],
    );
}

#[test]
fn cross_account_trust_forms() {
    check(
        cross_account_trust(SOURCE, Some("jenkins-prod"), HopTrust::Robust).unwrap(),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {
                "AWS": "arn:aws:iam::111122223333:root"
              },
              "Action": "sts:AssumeRole",
              "Condition": {
                "ArnEquals": {
                  "aws:PrincipalArn": "arn:aws:iam::111122223333:role/jenkins-agent"
                },
                "StringEquals": {
                  "sts:ExternalId": "jenkins-prod"
                }
              }
            }
          ]
        }"#]],
    );
    check(
        cross_account_trust(SOURCE, None, HopTrust::Simple).unwrap(),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Principal": {
                "AWS": "arn:aws:iam::111122223333:role/jenkins-agent"
              },
              "Action": "sts:AssumeRole"
            }
          ]
        }"#]],
    );
    check(
        cross_account_trust(SOURCE, Some("x"), HopTrust::Simple).unwrap_err(),
        expect![[r#"invalid external id "x": must be 2 to 1224 characters long, not 1"#]],
    );
    check(
        cross_account_trust("arn:aws:sts::111122223333:assumed-role/jenkins-agent/session", None, HopTrust::Robust)
            .unwrap_err(),
        expect![[
            r#"invalid role ARN "arn:aws:sts::111122223333:assumed-role/jenkins-agent/session": this is an STS session ARN; use the role's ARN, arn:<partition>:iam::<account>:role/<name>"#
        ]],
    );
}

#[test]
fn assume_role_permission_document() {
    let other = "arn:aws:iam::777788889999:role/ci/deploy";
    check(
        assume_role_permission(&[TARGET, other, TARGET]).unwrap(),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "sts:AssumeRole",
              "Resource": [
                "arn:aws:iam::444455556666:role/jenkins-deploy",
                "arn:aws:iam::777788889999:role/ci/deploy"
              ]
            }
          ]
        }"#]],
    );
    check(
        assume_role_permission(&[TARGET]).unwrap(),
        expect![[r#"
        {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": "sts:AssumeRole",
              "Resource": "arn:aws:iam::444455556666:role/jenkins-deploy"
            }
          ]
        }"#]],
    );
    assert!(assume_role_permission(&[]).is_err());
    assert!(assume_role_permission(&["arn:aws:iam::1:role/x"]).is_err());
}

// ---------------------------------------------------------------- quota

#[test]
fn trust_size_ignores_whitespace_only() {
    let pretty = irsa_trust(&[cluster(1, &["system:serviceaccount:jenkins:jenkins"])]);
    let compact: String = serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&pretty).unwrap()).unwrap();
    assert!(pretty.len() > compact.len());
    assert_eq!(trust_size(&pretty), compact.chars().count());
    assert_eq!(trust_size(&url_encode(&pretty)), compact.chars().count());
    assert_eq!(trust_size("{ \"a b\" }"), 6);
}

#[test]
fn quota_message_says_how_many_clusters_fit() {
    let clusters: Vec<_> = (0..8).map(|n| cluster(n, &["system:serviceaccount:jenkins:jenkins"])).collect();
    let eight = irsa_trust(&clusters);
    check(trust_size(&irsa_trust(&clusters[..1])), expect!["476"]);
    let err = check_trust_quota(&eight, DEFAULT_TRUST_QUOTA).unwrap_err();
    check(
        &err,
        expect![[
            r#"the trust policy is 3,542 characters long as IAM counts them (whitespace excluded), over the account's role trust policy quota of 2,048. Each cluster adds about 438 characters, so 4 of the 8 clusters fit in one role. Split the clusters across roles of at most 4 each, or raise the quota in Service Quotas (AWS Identity and Access Management (IAM), "Role trust policy length", up to 4,096), then set the trust quota setting to the granted value."#
        ]],
    );
    // The answer is right: that many fit, one more does not.
    assert!(check_trust_quota(&irsa_trust(&clusters[..err.fit]), DEFAULT_TRUST_QUOTA).is_ok());
    assert!(check_trust_quota(&irsa_trust(&clusters[..err.fit + 1]), DEFAULT_TRUST_QUOTA).is_err());
    assert!(check_trust_quota(&eight, MAX_TRUST_QUOTA).is_ok());
    check(
        check_trust_quota("not json at all", 3).unwrap_err(),
        expect![[
            r#"the trust policy is 12 characters long as IAM counts them (whitespace excluded), over the account's role trust policy quota of 3. Trust fewer principals in this role, or raise the quota in Service Quotas (AWS Identity and Access Management (IAM), "Role trust policy length", up to 4,096), then set the trust quota setting to the granted value."#
        ]],
    );
}

// ---------------------------------------------------------------- admission

#[test]
fn trust_admission_cases() {
    let robust = cross_account_trust(SOURCE, Some("ext-id"), HopTrust::Robust).unwrap();
    let simple = cross_account_trust(SOURCE, None, HopTrust::Simple).unwrap();
    let stmt = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
    let root_like = stmt(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:*",
            "Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/jenkins-*"}}}"#,
    );
    let root_string = stmt(
        r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole",
            "Condition":{"StringEquals":{"aws:principalarn":["arn:aws:iam::111122223333:role/other","arn:aws:iam::111122223333:role/jenkins-agent"]}}}"#,
    );
    let anyone = stmt(r#"{"Effect":"Allow","Principal":"*","Action":"*"}"#);
    let other_account = stmt(r#"{"Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"sts:AssumeRole"}"#);
    let web_identity_only = irsa_trust(&[cluster(1, &["system:serviceaccount:jenkins:jenkins"])]);
    let unknown_key = stmt(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole",
            "Condition":{"StringEquals":{"aws:PrincipalTag/team":"ci"}}}"#,
    );
    let denied = stmt(
        r#"{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},
           {"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111122223333:role/jenkins-agent"},"NotAction":"sts:TagSession"}"#,
    );
    let deleted = stmt(r#"{"Effect":"Allow","Principal":{"AWS":"AROA1234567890EXAMPLE"},"Action":"sts:AssumeRole"}"#);
    let if_exists = stmt(
        r#"{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"sts:AssumeRole",
            "Condition":{"StringEqualsIfExists":{"sts:ExternalId":"x1"},"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/admin"}}}"#,
    );
    let cases: Vec<(&str, &str, Option<&str>, Expect)> = vec![
        (
            "robust with the id",
            &robust,
            Some("ext-id"),
            expect![[r#"
            (
                "robust with the id",
                Allowed,
            )
        "#]],
        ),
        (
            "robust without the id",
            &robust,
            None,
            expect![[r#"
                (
                    "robust without the id",
                    Denied {
                        reason: "no statement lets arn:aws:iam::111122223333:role/jenkins-agent call sts:AssumeRole: Statement.Condition: requires StringEquals sts:ExternalId = ext-id, which the request does not carry",
                    },
                )
            "#]],
        ),
        (
            "robust with a wrong id",
            &robust,
            Some("other"),
            expect![[r#"
                (
                    "robust with a wrong id",
                    Denied {
                        reason: "no statement lets arn:aws:iam::111122223333:role/jenkins-agent call sts:AssumeRole: Statement.Condition: StringEquals sts:ExternalId = ext-id does not match \"other\"",
                    },
                )
            "#]],
        ),
        (
            "simple",
            &simple,
            None,
            expect![[r#"
            (
                "simple",
                Allowed,
            )
        "#]],
        ),
        (
            "root plus ArnLike",
            &root_like,
            None,
            expect![[r#"
            (
                "root plus ArnLike",
                Allowed,
            )
        "#]],
        ),
        (
            "root plus StringEquals list",
            &root_string,
            None,
            expect![[r#"
            (
                "root plus StringEquals list",
                Allowed,
            )
        "#]],
        ),
        (
            "anyone",
            &anyone,
            None,
            expect![[r#"
            (
                "anyone",
                Allowed,
            )
        "#]],
        ),
        (
            "other account",
            &other_account,
            None,
            expect![[r#"
                (
                    "other account",
                    Denied {
                        reason: "no statement lets arn:aws:iam::111122223333:role/jenkins-agent call sts:AssumeRole; add one with Principal {\"AWS\": \"arn:aws:iam::111122223333:root\"} and Condition ArnEquals aws:PrincipalArn = arn:aws:iam::111122223333:role/jenkins-agent",
                    },
                )
            "#]],
        ),
        (
            "web identity only",
            &web_identity_only,
            None,
            expect![[r#"
            (
                "web identity only",
                Denied {
                    reason: "no statement lets arn:aws:iam::111122223333:role/jenkins-agent call sts:AssumeRole; add one with Principal {\"AWS\": \"arn:aws:iam::111122223333:root\"} and Condition ArnEquals aws:PrincipalArn = arn:aws:iam::111122223333:role/jenkins-agent",
                },
            )
        "#]],
        ),
        (
            "unknown key",
            &unknown_key,
            None,
            expect![[r#"
            (
                "unknown key",
                Unknown {
                    reason: "Statement.Condition: the condition key aws:PrincipalTag/team depends on the request and is not evaluated here",
                },
            )
        "#]],
        ),
        (
            "explicit deny",
            &denied,
            None,
            expect![[r#"
            (
                "explicit deny",
                Denied {
                    reason: "Statement[1] explicitly denies it; remove or narrow that Deny",
                },
            )
        "#]],
        ),
        (
            "deleted principal",
            &deleted,
            None,
            expect![[r#"
                (
                    "deleted principal",
                    Denied {
                        reason: "no statement lets arn:aws:iam::111122223333:role/jenkins-agent call sts:AssumeRole; add one with Principal {\"AWS\": \"arn:aws:iam::111122223333:root\"} and Condition ArnEquals aws:PrincipalArn = arn:aws:iam::111122223333:role/jenkins-agent; the trust names AROA1234567890EXAMPLE where a role ARN was: IAM rewrote a principal whose role was deleted; write the role ARN again",
                    },
                )
            "#]],
        ),
        (
            "IfExists and negation",
            &if_exists,
            None,
            expect![[r#"
            (
                "IfExists and negation",
                Allowed,
            )
        "#]],
        ),
    ];
    for (name, trust, ext, want) in cases {
        let got = trust_admits(trust, SOURCE, ext).unwrap();
        want.assert_debug_eq(&(name, got));
    }
    assert!(trust_admits(&simple, "not-an-arn", None).is_err());
    // A different role in the same account is admitted by the bare root form, not by the robust one.
    let sibling = "arn:aws:iam::111122223333:role/jenkins-controller";
    assert!(matches!(trust_admits(&robust, sibling, Some("ext-id")).unwrap(), Admission::Denied { .. }));
    assert_eq!(trust_admits(&root_like, sibling, None).unwrap(), Admission::Allowed);
}

#[test]
fn identity_permission_cases() {
    let p = |body: &str| format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#);
    let exact = assume_role_permission(&[TARGET]).unwrap();
    let wildcard = p(r#"{"Effect":"Allow","Action":"sts:Assume*","Resource":"arn:aws:iam::*:role/jenkins-?eploy"}"#);
    let star = p(r#"{"Effect":"Allow","Action":"*","Resource":"*"}"#);
    let other = p(r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::444455556666:role/other"}"#);
    let s3 = p(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"}"#);
    let deny = p(r#"{"Effect":"Deny","Action":"sts:*","NotResource":"arn:aws:iam::111122223333:role/*"}"#);
    let conditional = p(
        r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}"#,
    );
    let colon = p(r#"{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::444455556666*"}"#);
    let cases: Vec<(&str, Vec<String>, Expect)> = vec![
        (
            "exact",
            vec![exact.clone()],
            expect![[r#"
            (
                "exact",
                Allowed,
            )
        "#]],
        ),
        (
            "wildcards in action and resource",
            vec![wildcard],
            expect![[r#"
            (
                "wildcards in action and resource",
                Allowed,
            )
        "#]],
        ),
        (
            "star, URL-encoded",
            vec![url_encode(&star)],
            expect![[r#"
            (
                "star, URL-encoded",
                Allowed,
            )
        "#]],
        ),
        (
            "another role and s3",
            vec![other, s3],
            expect![[r#"
                (
                    "another role and s3",
                    Denied {
                        reason: "the source role's policies do not allow sts:AssumeRole on arn:aws:iam::444455556666:role/jenkins-deploy; attach a policy with Action sts:AssumeRole and Resource arn:aws:iam::444455556666:role/jenkins-deploy",
                    },
                )
            "#]],
        ),
        (
            "no policies",
            vec![],
            expect![[r#"
            (
                "no policies",
                Denied {
                    reason: "the source role's policies do not allow sts:AssumeRole on arn:aws:iam::444455556666:role/jenkins-deploy; attach a policy with Action sts:AssumeRole and Resource arn:aws:iam::444455556666:role/jenkins-deploy",
                },
            )
        "#]],
        ),
        (
            "allowed then denied",
            vec![exact.clone(), deny],
            expect![[r#"
            (
                "allowed then denied",
                Denied {
                    reason: "policy 1 Statement explicitly denies it; remove or narrow that Deny",
                },
            )
        "#]],
        ),
        (
            "conditional",
            vec![conditional],
            expect![[r#"
            (
                "conditional",
                Unknown {
                    reason: "policy 0 Statement: it has conditions, which depend on the request",
                },
            )
        "#]],
        ),
        (
            "a pattern without six parts is undecided",
            vec![colon],
            expect![[r#"
                (
                    "a pattern without six parts is undecided",
                    Unknown {
                        reason: "policy 0 Statement: the Resource pattern \"arn:aws:iam::444455556666*\" does not have the six parts of an ARN",
                    },
                )
            "#]],
        ),
    ];
    for (name, policies, want) in cases {
        want.assert_debug_eq(&(name, identity_allows_assume(&policies, TARGET).unwrap()));
    }
    assert!(identity_allows_assume(&["{".into()], TARGET).is_err());
}

#[test]
fn unique_id_principals_are_detected() {
    for (p, want) in [
        ("AROA1234567890EXAMPLE", true),
        ("AIDAJQABLZS4A3QDU576Q", true),
        ("AROA", false),
        ("arn:aws:iam::111122223333:role/AROA1234567890EXAMPLE", false),
        ("AKIA1234567890EXAMPLE", false),
        ("aroa1234567890example", false),
    ] {
        assert_eq!(is_unique_id_principal(p), want, "{p}");
    }
    let trust = r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":["AROA1234567890EXAMPLE","111122223333"]}}}"#;
    assert_eq!(unique_id_principals(trust).unwrap(), vec!["AROA1234567890EXAMPLE"]);
}

// ---------------------------------------------------------------- ARNs and names

#[test]
fn role_arns_parse_and_print() {
    let r = RoleArn::parse("arn:aws-us-gov:iam::012345678901:role/ci/jenkins/agent").unwrap();
    assert_eq!(
        (r.partition, r.account.as_str(), r.path.as_str(), r.name.as_str()),
        (Partition::AwsUsGov, "012345678901", "/ci/jenkins/", "agent")
    );
    assert_eq!(r.to_string(), "arn:aws-us-gov:iam::012345678901:role/ci/jenkins/agent");
    assert_eq!(r.account_root(), "arn:aws-us-gov:iam::012345678901:root");
    let cases = [
        (
            "arn:aws:iam::12345678901:role/x",
            expect![[
                r#"invalid ARN "arn:aws:iam::12345678901:role/x": the account part must be a 12-digit AWS account id"#
            ]],
        ),
        (
            "arn:aws-eu:iam::123456789012:role/x",
            expect![[
                r#"invalid ARN "arn:aws-eu:iam::123456789012:role/x": partition "aws-eu" is not one of aws, aws-cn, aws-us-gov"#
            ]],
        ),
        (
            "arn:aws:iam::123456789012:user/x",
            expect![[
                r#"invalid role ARN "arn:aws:iam::123456789012:user/x": expected arn:<partition>:iam::<account>:role/<name>"#
            ]],
        ),
        (
            "arn:aws:iam:eu-west-1:123456789012:role/x",
            expect![[
                r#"invalid role ARN "arn:aws:iam:eu-west-1:123456789012:role/x": IAM ARNs have an empty region and a 12-digit account: arn:aws:iam::123456789012:role/<name>"#
            ]],
        ),
        (
            "arn:aws:iam::123456789012:role/bad name",
            expect![[
                r#"invalid role ARN "arn:aws:iam::123456789012:role/bad name": invalid role name "bad name": ' ' is not allowed; use letters, digits and + = , . @ _ -"#
            ]],
        ),
        (
            "arn:aws:iam::123456789012:role/",
            expect![[
                r#"invalid role ARN "arn:aws:iam::123456789012:role/": invalid role name "": must be 1 to 64 characters long, not 0"#
            ]],
        ),
        (
            "role/x",
            expect![[r#"invalid ARN "role/x": expected arn:<partition>:<service>:<region>:<account>:<resource>"#]],
        ),
    ];
    for (input, want) in cases {
        check(RoleArn::parse(input).unwrap_err(), want);
    }
    let generic = Arn::parse("arn:aws:s3:::bucket/key:with:colons").unwrap();
    assert_eq!(
        (generic.service.as_str(), generic.account.as_str(), generic.resource.as_str()),
        ("s3", "", "bucket/key:with:colons")
    );
    assert_eq!(generic.to_string(), "arn:aws:s3:::bucket/key:with:colons");
}

#[test]
fn oidc_provider_arns() {
    assert_eq!(oidc_provider_arn(Partition::Aws, "111122223333", ISSUER).unwrap(), PROVIDER);
    assert_eq!(oidc_provider_arn(Partition::Aws, "111122223333", &format!("{ISSUER}/")).unwrap(), PROVIDER);
    let parsed = OidcProviderArn::parse(PROVIDER).unwrap();
    assert_eq!(parsed.issuer, "oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF");
    assert_eq!(parsed.to_string(), PROVIDER);
    check(
        oidc_provider_arn(Partition::AwsCn, "1111", ISSUER).unwrap_err(),
        expect![[r#"invalid account id "1111": must be exactly 12 digits"#]],
    );
    check(
        oidc_provider_arn(Partition::Aws, "111122223333", "http://x/y?z").unwrap_err(),
        expect![[
            r#"invalid OIDC issuer "http://x/y?z": expected https://<host>[/<path>], e.g. https://oidc.eks.eu-west-1.amazonaws.com/id/0123456789ABCDEF"#
        ]],
    );
    check(
        OidcProviderArn::parse("arn:aws:iam::111122223333:saml-provider/x").unwrap_err(),
        expect![[
            r#"invalid OIDC provider ARN "arn:aws:iam::111122223333:saml-provider/x": expected arn:<partition>:iam::<account>:oidc-provider/<issuer host and path>"#
        ]],
    );
}

#[test]
fn name_rules() {
    type Rule = fn(&str) -> Result<()>;
    let ok: &[(&str, Rule)] = &[
        ("a", check_role_name),
        ("jenkins+agent=x,y.z@w_v-1", check_role_name),
        ("/", check_role_path),
        ("/ci/jenkins/", check_role_path),
        ("/ci//x/", check_role_path),
        ("ab", check_external_id),
        ("tenant:a/b+c=d,e.f@g_h-i", check_external_id),
        ("jenkins-prod", check_role_session_name),
        ("111122223333", check_account_id),
    ];
    for (v, f) in ok {
        assert!(f(v).is_ok(), "{v}");
    }
    let long_name = "r".repeat(65);
    let long_id = "e".repeat(1225);
    let bad: Vec<(&str, Rule, Expect)> = vec![
        ("", check_role_name, expect![[r#"invalid role name "": must be 1 to 64 characters long, not 0"#]]),
        (
            &long_name,
            check_role_name,
            expect![[
                r#"invalid role name "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr": must be 1 to 64 characters long, not 65"#
            ]],
        ),
        (
            "jenkins/agent",
            check_role_name,
            expect![[
                r#"invalid role name "jenkins/agent": '/' is not allowed; use letters, digits and + = , . @ _ -"#
            ]],
        ),
        ("ci/", check_role_path, expect![[r#"invalid role path "ci/": must start and end with '/', e.g. /jenkins/"#]]),
        ("/c i/", check_role_path, expect![[r#"invalid role path "/c i/": ' ' is not allowed; use printable ASCII"#]]),
        ("x", check_external_id, expect![[r#"invalid external id "x": must be 2 to 1224 characters long, not 1"#]]),
        (
            &long_id,
            check_external_id,
            expect![[
                r#"invalid external id "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee…"#
            ]],
        ),
        (
            "has space",
            check_external_id,
            expect![[
                r#"invalid external id "has space": ' ' is not allowed; use letters, digits and + = , . @ : / _ -"#
            ]],
        ),
        (
            "j",
            check_role_session_name,
            expect![[r#"invalid role session name "j": must be 2 to 64 characters long, not 1"#]],
        ),
        (
            "a:b",
            check_role_session_name,
            expect![[r#"invalid role session name "a:b": ':' is not allowed; use letters, digits and + = , . @ _ -"#]],
        ),
        (
            "11112222333a",
            check_account_id,
            expect![[r#"invalid account id "11112222333a": must be exactly 12 digits"#]],
        ),
    ];
    for (v, f, want) in bad {
        let msg = f(v).unwrap_err().to_string();
        check(if msg.len() > 160 { format!("{}…", &msg[..160]) } else { msg }, want);
    }
}

#[test]
fn duration_rules() {
    for (s, ok) in [(3_599, false), (3_600, true), (43_200, true), (43_201, false)] {
        assert_eq!(check_max_session_duration(s).is_ok(), ok, "{s}");
    }
    for (s, ok) in [(899, false), (900, true), (3_600, true), (3_601, false)] {
        assert_eq!(check_chained_duration(s).is_ok(), ok, "{s}");
    }
    check(
        check_chained_duration(7_200).unwrap_err(),
        expect![[
            r#"invalid duration_seconds "7200": a chained hop is capped at 3600 seconds by STS ("exceeds the 1 hour session limit for roles assumed by role chaining"); set 3600 or less"#
        ]],
    );
}

// ---------------------------------------------------------------- retries

#[test]
fn error_classification() {
    use IamOperation as Op;
    let cases = [
        (Op::Read, "Throttling", "Rate exceeded", RetryClass::Retryable),
        (Op::ModifyPolicies, "ConcurrentModification", "", RetryClass::Retryable),
        (Op::Other, "ServiceFailure", "", RetryClass::Retryable),
        (
            Op::CreateRole,
            "MalformedPolicyDocument",
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/x\"",
            RetryClass::EventualConsistency,
        ),
        (
            Op::UpdateAssumeRolePolicy,
            "MalformedPolicyDocument",
            "Invalid principal in policy",
            RetryClass::EventualConsistency,
        ),
        (Op::CreateRole, "MalformedPolicyDocument", "Syntax errors in policy.", RetryClass::Fatal),
        (Op::ModifyPolicies, "MalformedPolicyDocument", "Invalid principal in policy", RetryClass::Fatal),
        (Op::ReadAfterCreate, "NoSuchEntity", "", RetryClass::EventualConsistency),
        (Op::Read, "NoSuchEntity", "", RetryClass::Fatal),
        (Op::DeleteRole, "DeleteConflict", "", RetryClass::EventualConsistency),
        (Op::AssumeRoleAfterTrustChange, "AccessDenied", "", RetryClass::EventualConsistency),
        (Op::CreateRole, "AccessDenied", "", RetryClass::Fatal),
        (Op::CreateRole, "LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048", RetryClass::Fatal),
        (Op::CreateRole, "EntityAlreadyExists", "", RetryClass::Fatal),
        (Op::Read, "ServerException", "", RetryClass::Retryable),
        (Op::Other, "Throttling", "Rate exceeded", RetryClass::Retryable),
    ];
    for (op, code, message, want) in cases {
        assert_eq!(classify(op, code, message), want, "{op:?} {code} {message}");
    }
    assert!(fatal_hint("LimitExceeded", "Cannot exceed quota for ACLSizePerRole: 2048").is_some());
    assert!(fatal_hint("NoSuchEntity", "").is_none());
}

#[test]
fn backoff_schedules() {
    assert_eq!(Backoff::for_class(RetryClass::Fatal), None);
    let ec = Backoff::for_class(RetryClass::EventualConsistency).unwrap();
    let schedule = ec.schedule();
    let total: std::time::Duration = schedule.iter().sum();
    assert!(total <= PROPAGATION_TIMEOUT && total + ec.max_delay > PROPAGATION_TIMEOUT, "{total:?}");
    check(format!("{:?}", &schedule[..6]), expect!["[1s, 2s, 4s, 8s, 10s, 10s]"]);
    let rt = Backoff::for_class(RetryClass::Retryable).unwrap();
    check(
        format!("{:?}", rt.schedule()),
        expect!["[500ms, 1s, 2s, 4s, 8s, 16s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s, 20s]"],
    );
    assert_eq!(rt.delay(1000), rt.max_delay);
    assert_eq!(rt.delay_with_jitter(0, 0.0), std::time::Duration::from_millis(250));
    assert_eq!(rt.delay_with_jitter(0, 1.0), std::time::Duration::from_millis(500));
    assert_eq!(rt.delay_with_jitter(0, f64::NAN), std::time::Duration::from_millis(250));
    assert!(ec.allows(0, std::time::Duration::ZERO));
    assert!(!ec.allows(0, PROPAGATION_TIMEOUT));
}

#[test]
fn iam_wildcards() {
    use super::admission::{arn_like, glob};
    for (p, v, want) in [
        ("*", "", true),
        ("a*c", "abbbc", true),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*b*b*", "abab", true),
        ("*b*b*", "ab", false),
        ("abc", "abd", false),
    ] {
        assert_eq!(glob(p, v), want, "{p} {v}");
    }
    assert!(arn_like("arn:aws:iam::*:role/*", TARGET));
    assert!(!arn_like("arn:aws:iam::*", TARGET));
    assert!(arn_like("arn:aws:iam::444455556666:*", TARGET));
}

#[test]
fn canonical_is_a_fixed_point_and_ignores_reordering() {
    let docs = [
        irsa_trust(&[cluster(1, &["system:serviceaccount:jenkins:*"]), cluster(2, &["system:serviceaccount:ci:a"])]),
        cross_account_trust(SOURCE, Some("ext-id"), HopTrust::Robust).unwrap(),
        pod_identity_trust(),
        assume_role_permission(&[TARGET, "arn:aws:iam::777788889999:role/x"]).unwrap(),
    ];
    for d in &docs {
        let once = canonical_text(d).unwrap();
        assert_eq!(canonical_text(&once).unwrap(), once, "{d}");
        // Reordering statements and list items never changes the canonical form.
        let mut v: serde_json::Value = serde_json::from_str(d).unwrap();
        if let Some(statements) = v["Statement"].as_array_mut() {
            statements.reverse();
            for s in statements.iter_mut() {
                for k in ["Action", "Resource"] {
                    if let Some(list) = s.get_mut(k).and_then(|x| x.as_array_mut()) {
                        list.reverse();
                    }
                }
            }
        }
        assert!(equivalent(d, &v.to_string()).unwrap(), "{d}");
    }
}

/// IRSA admission: the trust the builder writes admits exactly its issuers and subjects.
#[test]
fn web_identity_admission_follows_issuer_and_subject() {
    let role = "arn:aws:iam::111122223333:role/jenkins-ci";
    let trust = irsa_trust(&[
        cluster(1, &["system:serviceaccount:jenkins:jenkins"]),
        cluster(2, &["system:serviceaccount:ci:*"]),
    ]);
    let issuer = |n: usize| format!("https://oidc.eks.eu-west-1.amazonaws.com/id/{n:032X}");
    let admits = |iss: &str, sub: &str| web_identity_admits(&trust, role, iss, sub).unwrap();
    assert_eq!(admits(&issuer(1), "system:serviceaccount:jenkins:jenkins"), Admission::Allowed);
    assert_eq!(admits(&issuer(2), "system:serviceaccount:ci:builder"), Admission::Allowed);
    let Admission::Denied { reason } = admits(&issuer(1), "system:serviceaccount:jenkins:other") else {
        panic!("another service account is not admitted");
    };
    assert!(reason.contains("does not match \"system:serviceaccount:jenkins:other\""), "{reason}");
    let Admission::Denied { reason } = admits(&issuer(3), "system:serviceaccount:jenkins:jenkins") else {
        panic!("another cluster is not admitted");
    };
    assert!(reason.contains(&format!("oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/{:032X}", 3)), "{reason}");
    assert!(web_identity_admits(&trust, "not-an-arn", &issuer(1), "x").is_err());
}
