//! The workflow's contract in types: what each state function takes and returns, and the values
//! with rules that travel between them. Shared by every function, the CLI and the tests; the
//! prose is docs/workflow-contract.md.

mod ids;
mod states;

pub use ids::{AccountId, Region, RunId, RunKeys, RunRef};
pub use states::*;

#[cfg(test)]
mod tests;

/// Reads a state's input from the event, naming the field at fault (`field `region`: invalid
/// type: integer `42`, expected a string`) or the shape expected when it is not an object.
pub fn parse_input<I: StateInput>(event: serde_json::Value) -> Result<I, String> {
    if !event.is_object() {
        return Err(format!(
            "expected an object with the state's fields, got {}",
            json_type(&event)
        ));
    }
    serde_path_to_error::deserialize(event).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("field `{path}`: {}", e.into_inner())
        }
    })
}

fn json_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
