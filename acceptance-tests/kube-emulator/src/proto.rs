//! Decoding of Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), which
//! kubectl's typed clients send (`kubectl create namespace|configmap|secret|token`, `kubectl auth can-i`),
//! into JSON. Covers the `k8s\0` + `runtime.Unknown` envelope and the served kinds' common fields;
//! unknown fields are skipped. Responses are always JSON, which those clients accept. Pure.

use base64::Engine;
use serde_json::{Map, Value, json};

#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    Msg(&'static [F]),
    MapStr,
    MapB64,
    /// `map<string, resource.Quantity>`: each value a message whose field 1 is the string form.
    MapQuantity,
}

/// (field number, JSON name, type, repeated)
type F = (u32, &'static str, Ty, bool);

const META: &[F] = &[
    (1, "name", Ty::Str, false),
    (2, "generateName", Ty::Str, false),
    (3, "namespace", Ty::Str, false),
    (5, "uid", Ty::Str, false),
    (6, "resourceVersion", Ty::Str, false),
    (11, "labels", Ty::MapStr, false),
    (12, "annotations", Ty::MapStr, false),
    (14, "finalizers", Ty::Str, true),
];
const NAMESPACE: &[F] =
    &[(1, "metadata", Ty::Msg(META), false), (2, "spec", Ty::Msg(&[(1, "finalizers", Ty::Str, true)]), false)];
const CONFIGMAP: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (2, "data", Ty::MapStr, false),
    (3, "binaryData", Ty::MapB64, false),
    (4, "immutable", Ty::Bool, false),
];
const SECRET: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (2, "data", Ty::MapB64, false),
    (3, "type", Ty::Str, false),
    (4, "stringData", Ty::MapStr, false),
    (5, "immutable", Ty::Bool, false),
];
const RESOURCE_QUOTA: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (2, "spec", Ty::Msg(&[(1, "hard", Ty::MapQuantity, false), (2, "scopes", Ty::Str, true)]), false),
];
const OBJECT_REF: &[F] = &[(1, "kind", Ty::Str, false), (2, "namespace", Ty::Str, false), (3, "name", Ty::Str, false)];
const SERVICEACCOUNT: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (2, "secrets", Ty::Msg(OBJECT_REF), true),
    (3, "imagePullSecrets", Ty::Msg(&[(1, "name", Ty::Str, false)]), true),
    (4, "automountServiceAccountToken", Ty::Bool, false),
];
const RULE: &[F] = &[
    (1, "verbs", Ty::Str, true),
    (2, "apiGroups", Ty::Str, true),
    (3, "resources", Ty::Str, true),
    (4, "resourceNames", Ty::Str, true),
    (5, "nonResourceURLs", Ty::Str, true),
];
const ROLE: &[F] = &[(1, "metadata", Ty::Msg(META), false), (2, "rules", Ty::Msg(RULE), true)];
const BINDING: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (
        2,
        "subjects",
        Ty::Msg(&[
            (1, "kind", Ty::Str, false),
            (2, "apiGroup", Ty::Str, false),
            (3, "name", Ty::Str, false),
            (4, "namespace", Ty::Str, false),
        ]),
        true,
    ),
    (
        3,
        "roleRef",
        Ty::Msg(&[(1, "apiGroup", Ty::Str, false), (2, "kind", Ty::Str, false), (3, "name", Ty::Str, false)]),
        false,
    ),
];
const CONTAINER: &[F] = &[
    (1, "name", Ty::Str, false),
    (2, "image", Ty::Str, false),
    (3, "command", Ty::Str, true),
    (4, "args", Ty::Str, true),
    (5, "workingDir", Ty::Str, false),
];
const POD: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (
        2,
        "spec",
        Ty::Msg(&[
            (2, "containers", Ty::Msg(CONTAINER), true),
            (3, "restartPolicy", Ty::Str, false),
            (8, "serviceAccountName", Ty::Str, false),
            (10, "nodeName", Ty::Str, false),
        ]),
        false,
    ),
];
const SSAR: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (
        2,
        "spec",
        Ty::Msg(&[
            (
                1,
                "resourceAttributes",
                Ty::Msg(&[
                    (1, "namespace", Ty::Str, false),
                    (2, "verb", Ty::Str, false),
                    (3, "group", Ty::Str, false),
                    (4, "version", Ty::Str, false),
                    (5, "resource", Ty::Str, false),
                    (6, "subresource", Ty::Str, false),
                    (7, "name", Ty::Str, false),
                ]),
                false,
            ),
            (2, "nonResourceAttributes", Ty::Msg(&[(1, "path", Ty::Str, false), (2, "verb", Ty::Str, false)]), false),
        ]),
        false,
    ),
];
const TOKEN_REQUEST: &[F] = &[
    (1, "metadata", Ty::Msg(META), false),
    (
        2,
        "spec",
        Ty::Msg(&[
            (1, "audiences", Ty::Str, true),
            (
                3,
                "boundObjectRef",
                Ty::Msg(&[
                    (1, "kind", Ty::Str, false),
                    (2, "apiVersion", Ty::Str, false),
                    (3, "name", Ty::Str, false),
                    (4, "uid", Ty::Str, false),
                ]),
                false,
            ),
            (4, "expirationSeconds", Ty::Int, false),
        ]),
        false,
    ),
];
const DELETE_OPTIONS: &[F] = &[
    (1, "gracePeriodSeconds", Ty::Int, false),
    (2, "preconditions", Ty::Msg(&[(1, "uid", Ty::Str, false), (2, "resourceVersion", Ty::Str, false)]), false),
    (4, "propagationPolicy", Ty::Str, false),
];

fn schema_for(kind: &str) -> Option<&'static [F]> {
    Some(match kind {
        "Namespace" => NAMESPACE,
        "ConfigMap" => CONFIGMAP,
        "Secret" => SECRET,
        "ServiceAccount" => SERVICEACCOUNT,
        "Role" | "ClusterRole" => ROLE,
        "RoleBinding" | "ClusterRoleBinding" => BINDING,
        "Pod" => POD,
        "ResourceQuota" => RESOURCE_QUOTA,
        "SelfSubjectAccessReview" => SSAR,
        "TokenRequest" => TOKEN_REQUEST,
        "DeleteOptions" => DELETE_OPTIONS,
        "SelfSubjectReview" => &[(1, "metadata", Ty::Msg(META), false)],
        _ => return None,
    })
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or("truncated varint")?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }

    fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.varint()? as usize;
        let end = self.pos.checked_add(n).filter(|e| *e <= self.buf.len()).ok_or("truncated field")?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    /// Next (field, wire type, value): varints as `Ok(Left)`, length-delimited as bytes.
    fn next(&mut self) -> Result<Option<(u32, Wire<'a>)>, String> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let field = (key >> 3) as u32;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                self.pos += 8;
                Wire::Skip
            }
            2 => Wire::Bytes(self.bytes()?),
            5 => {
                self.pos += 4;
                Wire::Skip
            }
            w => return Err(format!("unsupported wire type {w}")),
        };
        if self.pos > self.buf.len() {
            return Err("truncated fixed-width field".into());
        }
        Ok(Some((field, wire)))
    }
}

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Skip,
}

fn text(b: &[u8]) -> Result<Value, String> {
    String::from_utf8(b.to_vec()).map(Value::String).map_err(|_| "invalid UTF-8 in string field".into())
}

fn map_entry(b: &[u8], ty: Ty) -> Result<(String, Value), String> {
    let mut r = Reader { buf: b, pos: 0 };
    let (mut k, mut v) = (String::new(), json!(""));
    while let Some((f, w)) = r.next()? {
        if let Wire::Bytes(b) = w {
            match f {
                1 => k = String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 map key")?,
                2 if matches!(ty, Ty::MapB64) => v = json!(base64::engine::general_purpose::STANDARD.encode(b)),
                2 if matches!(ty, Ty::MapQuantity) => {
                    v = message(b, &[(1, "string", Ty::Str, false)])?.get("string").cloned().unwrap_or(json!("0"))
                }
                2 => v = text(b)?,
                _ => {}
            }
        }
    }
    Ok((k, v))
}

fn message(buf: &[u8], schema: &[F]) -> Result<Value, String> {
    let mut out = Map::new();
    let mut r = Reader { buf, pos: 0 };
    while let Some((num, wire)) = r.next()? {
        let Some(&(_, name, ty, repeated)) = schema.iter().find(|f| f.0 == num) else { continue };
        let value = match (ty, wire) {
            (Ty::Str, Wire::Bytes(b)) => text(b)?,
            (Ty::Bool, Wire::Varint(v)) => json!(v != 0),
            (Ty::Int, Wire::Varint(v)) => json!(v as i64),
            (Ty::Msg(s), Wire::Bytes(b)) => message(b, s)?,
            (Ty::MapStr | Ty::MapB64 | Ty::MapQuantity, Wire::Bytes(b)) => {
                let (k, v) = map_entry(b, ty)?;
                let entry = out.entry(name).or_insert_with(|| json!({}));
                entry[k] = v;
                continue;
            }
            _ => continue,
        };
        let empty =
            matches!(&value, Value::String(s) if s.is_empty()) || matches!(&value, Value::Object(m) if m.is_empty());
        if empty && !repeated {
            continue;
        }
        if repeated {
            out.entry(name).or_insert_with(|| json!([])).as_array_mut().ok_or("repeated field clash")?.push(value);
        } else {
            out.insert(name.to_string(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Decodes a `k8s\0`-prefixed protobuf body into a JSON object with apiVersion and kind.
pub fn decode(body: &[u8]) -> Result<Value, String> {
    let envelope = body.strip_prefix(b"k8s\x00").ok_or("protobuf body lacks the k8s envelope")?;
    let mut r = Reader { buf: envelope, pos: 0 };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((f, w)) = r.next()? {
        match (f, w) {
            (1, Wire::Bytes(tm)) => {
                let mut t = Reader { buf: tm, pos: 0 };
                while let Some((tf, tw)) = t.next()? {
                    if let Wire::Bytes(b) = tw {
                        let s = String::from_utf8(b.to_vec()).map_err(|_| "invalid UTF-8 in typeMeta")?;
                        if tf == 1 {
                            api_version = s;
                        } else if tf == 2 {
                            kind = s;
                        }
                    }
                }
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let schema = schema_for(&kind).ok_or_else(|| format!("protobuf decoding of kind {kind:?} is not supported"))?;
    let mut obj = message(raw, schema)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(num: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![((num << 3) | 2) as u8, payload.len() as u8];
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn decodes_a_configmap() {
        let meta = [field(1, b"cm"), field(2, b""), field(11, &[field(1, b"app"), field(2, b"web")].concat())].concat();
        let cm = [field(1, &meta), field(2, &[field(1, b"k"), field(2, b"v")].concat()), vec![4 << 3, 1]].concat();
        let type_meta = [field(1, b"v1"), field(2, b"ConfigMap")].concat();
        let body = [b"k8s\x00".to_vec(), field(1, &type_meta), field(2, &cm)].concat();
        let v = decode(&body).unwrap();
        assert_eq!(
            v,
            json!({"metadata": {"name": "cm", "labels": {"app": "web"}}, "data": {"k": "v"}, "immutable": true,
                   "apiVersion": "v1", "kind": "ConfigMap"})
        );
        assert!(decode(b"{}").is_err());
    }
}
