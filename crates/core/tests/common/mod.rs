//! JSON generators shared by the fuzz tests: arbitrary documents, and one-field mutations of a
//! valid document.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Any JSON value, nested up to four levels; object keys are often the names a parser knows
/// (`known`), so that the generator reaches past the first unknown-field check.
pub fn arbitrary_json(known: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::NORMAL.prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(known).prop_map(|k| Value::String(k.to_string())),
    ];
    let key = prop_oneof![
        3 => prop::sample::select(known).prop_map(str::to_string),
        1 => "[a-z_]{0,8}",
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// What is done to one field of a valid document.
#[derive(Debug, Clone, Copy)]
pub enum Mutation {
    Drop,
    Rename,
    Retype(usize),
}

pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        Just(Mutation::Drop),
        Just(Mutation::Rename),
        (0..5_usize).prop_map(Mutation::Retype),
    ]
}

/// The paths of every object field of `value` (`["entries", "0", "rule_id"]`).
pub fn field_paths(value: &Value) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    walk(value, &mut Vec::new(), &mut out);
    out
}

fn walk(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match value {
        Value::Object(fields) => {
            for (key, child) in fields {
                at.push(key.clone());
                out.push(at.clone());
                walk(child, at, out);
                at.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                at.push(i.to_string());
                walk(child, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

/// A value of another JSON type than `old`.
fn other_type(old: &Value, pick: usize) -> Value {
    let candidates = [
        Value::Null,
        Value::Bool(true),
        Value::from(-7),
        Value::String("x".into()),
        Value::Array(vec![Value::from(1)]),
        Value::Object(Map::new()),
    ];
    let different: Vec<&Value> = candidates
        .iter()
        .filter(|c| std::mem::discriminant(*c) != std::mem::discriminant(old))
        .collect();
    different[pick % different.len()].clone()
}

/// `document` with `mutation` applied to the field at `path`; returns the names an error may
/// give the field (a rename: the name it lost, missing, or the one it got, unknown).
pub fn mutate(document: &mut Value, path: &[String], mutation: Mutation) -> Vec<String> {
    let (last, parents) = path.split_last().expect("a field path is never empty");
    let mut parent = document;
    for step in parents {
        parent = match parent {
            Value::Object(fields) => fields.get_mut(step).expect("the path exists"),
            Value::Array(items) => &mut items[step.parse::<usize>().expect("an index")],
            _ => unreachable!("paths lead through objects and arrays"),
        };
    }
    let fields = parent
        .as_object_mut()
        .expect("a field's parent is an object");
    match mutation {
        Mutation::Drop => {
            fields.remove(last);
            vec![last.clone()]
        }
        Mutation::Rename => {
            let value = fields.remove(last).expect("the field exists");
            let renamed = format!("{last}_renamed");
            fields.insert(renamed.clone(), value);
            vec![last.clone(), renamed]
        }
        Mutation::Retype(pick) => {
            let slot = fields.get_mut(last).expect("the field exists");
            *slot = other_type(slot, pick);
            vec![last.clone()]
        }
    }
}
