//! Tool-call arguments generated from a tool's JSON schema. When the mock decides to call a tool it has to invent
//! arguments that the caller's own validation will accept, so it fills in exactly the required properties with
//! fixed, recognisable values: strings `"mock"`, numbers `1`, booleans `true`, enums and consts their first value,
//! arrays `minItems` generated items (at most three), nested objects recursively. Object keys are inserted in sorted
//! order so the serialized arguments are the same whether or not serde_json keeps insertion order.

use serde_json::{Map, Value};

/// Nesting depth past which generation gives up and answers `null` (schemas from a request body are trees, but
/// one could still be absurdly deep).
const MAX_DEPTH: usize = 16;

/// Arguments for a tool whose `input_schema` / `parameters` is `schema` (`None` when the tool declared none).
/// The result is always a JSON object, as both APIs require for tool input.
pub(crate) fn arguments_for(schema: Option<&Value>) -> Value {
    match schema.map(|s| generate(s, 0)) {
        Some(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    }
}

fn generate(schema: &Value, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    let Some(obj) = schema.as_object() else {
        // `true` or `{}`-like schemas accept anything.
        return Value::String("mock".to_owned());
    };
    if let Some(c) = obj.get("const") {
        return c.clone();
    }
    if let Some(first) = obj.get("enum").and_then(Value::as_array).and_then(|e| e.first()) {
        return first.clone();
    }
    for combinator in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = obj.get(combinator).and_then(Value::as_array).and_then(|a| a.first()) {
            return generate(first, depth + 1);
        }
    }
    let declared = match obj.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    let looks_like_object = obj.contains_key("properties") || obj.contains_key("required");
    let kind = declared.unwrap_or(if looks_like_object { "object" } else { "string" });
    match kind {
        "object" => object(obj, depth),
        "array" => {
            let count = obj.get("minItems").and_then(Value::as_u64).unwrap_or(0).min(3);
            let item = obj
                .get("items")
                .map_or(Value::String("mock".to_owned()), |s| generate(s, depth + 1));
            Value::Array((0..count).map(|_| item.clone()).collect())
        }
        "integer" | "number" => Value::from(1),
        "boolean" => Value::Bool(true),
        "null" => Value::Null,
        _ => Value::String("mock".to_owned()),
    }
}

fn object(schema: &Map<String, Value>, depth: usize) -> Value {
    let mut required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    required.sort_unstable();
    required.dedup();
    let properties = schema.get("properties").and_then(Value::as_object);
    let mut out = Map::new();
    for name in required {
        let value = match properties.and_then(|p| p.get(name)) {
            Some(prop) => generate(prop, depth + 1),
            None => Value::String("mock".to_owned()),
        };
        out.insert(name.to_owned(), value);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fills_required_properties_by_type() {
        let schema = json!({
            "type": "object",
            "properties": {
                "path": {"type": "string"},
                "limit": {"type": "integer"},
                "ratio": {"type": "number"},
                "force": {"type": "boolean"},
                "mode": {"type": "string", "enum": ["fast", "slow"]},
                "kind": {"const": "fixed"},
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "opts": {"type": "object", "properties": {"deep": {"type": ["null", "integer"]}}, "required": ["deep"]},
                "optional": {"type": "string"}
            },
            "required": ["path", "limit", "ratio", "force", "mode", "kind", "tags", "opts", "path"]
        });
        let args = arguments_for(Some(&schema));
        assert_eq!(
            args,
            json!({"path": "mock", "limit": 1, "ratio": 1, "force": true, "mode": "fast", "kind": "fixed",
                   "tags": ["mock", "mock"], "opts": {"deep": 1}})
        );
        // Keys come out sorted whatever the map implementation.
        assert_eq!(
            serde_json::to_string(&args).unwrap_or_default(),
            r#"{"force":true,"kind":"fixed","limit":1,"mode":"fast","opts":{"deep":1},"path":"mock","ratio":1,"tags":["mock","mock"]}"#
        );
    }

    #[test]
    fn odd_schemas_still_give_an_object() {
        assert_eq!(arguments_for(None), json!({}));
        assert_eq!(arguments_for(Some(&json!("nonsense"))), json!({}));
        assert_eq!(arguments_for(Some(&json!({"type": "object"}))), json!({}));
        assert_eq!(arguments_for(Some(&json!({"required": ["x"]}))), json!({"x": "mock"}));
        assert_eq!(
            arguments_for(Some(&json!({"properties": {}, "required": ["x", 3]}))),
            json!({"x": "mock"})
        );
        assert_eq!(
            arguments_for(Some(
                &json!({"type": "object", "properties": {"a": {"anyOf": [{"type": "boolean"}]}},
                                       "required": ["a"]})
            )),
            json!({"a": true})
        );
    }

    #[test]
    fn deep_schemas_stop_at_the_depth_limit() {
        let mut schema = json!({"type": "string"});
        for _ in 0..40 {
            schema = json!({"type": "object", "properties": {"n": schema}, "required": ["n"]});
        }
        let args = arguments_for(Some(&schema));
        let text = serde_json::to_string(&args).unwrap_or_default();
        assert!(text.contains("null"), "{text}");
    }
}
