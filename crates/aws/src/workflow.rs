//! Starting and following workflow executions (the on-demand path of `compliance run`).

use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};

use crate::error::AwsError;

/// The state machine ARN from a stack's `StateMachineArn` output.
pub async fn state_machine_from_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<String, AwsError> {
    stack_outputs(cfn, stack).await?.get("StateMachineArn")
}

/// The outputs of a deployed stack (resource names the CLI needs), from one DescribeStacks.
pub struct StackOutputs {
    stack: String,
    outputs: std::collections::BTreeMap<String, String>,
}

impl StackOutputs {
    pub fn get(&self, key: &str) -> Result<String, AwsError> {
        self.outputs.get(key).cloned().ok_or_else(|| AwsError::Api {
            service: "cloudformation",
            api: "DescribeStacks",
            code: "MissingOutput".into(),
            message: format!("stack `{}` has no {key} output", self.stack),
        })
    }
}

pub async fn stack_outputs(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> Result<StackOutputs, AwsError> {
    let out = cfn
        .describe_stacks()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| AwsError::api("cloudformation", "DescribeStacks", &e))?;
    let outputs = out
        .stacks()
        .iter()
        .flat_map(aws_sdk_cloudformation::types::Stack::outputs)
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    Ok(StackOutputs {
        stack: stack.to_string(),
        outputs,
    })
}

pub async fn start(
    sfn: &aws_sdk_sfn::Client,
    state_machine: &str,
    name: &str,
    input: &str,
) -> Result<String, AwsError> {
    let out = sfn
        .start_execution()
        .state_machine_arn(state_machine)
        .name(name)
        .input(input)
        .send()
        .await
        .map_err(|e| {
            // The same name with the same input while it runs is not an error: Step Functions
            // answers the running execution, so a repeated start joins it.
            if e.as_service_error()
                .is_some_and(StartExecutionError::is_execution_already_exists)
            {
                AwsError::RunExists {
                    run_id: name.to_string(),
                    state_machine: state_machine.to_string(),
                }
            } else {
                AwsError::api("sfn", "StartExecution", &e)
            }
        })?;
    Ok(out.execution_arn().to_string())
}

/// Where an execution stands: its status, and output or error once it has ended.
pub struct ExecutionState {
    pub status: ExecutionStatus,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

pub async fn describe(
    sfn: &aws_sdk_sfn::Client,
    execution: &str,
) -> Result<ExecutionState, AwsError> {
    let out = sfn
        .describe_execution()
        .execution_arn(execution)
        .send()
        .await
        .map_err(|e| AwsError::api("sfn", "DescribeExecution", &e))?;
    Ok(ExecutionState {
        status: out.status().clone(),
        output: out.output().map(str::to_string),
        error: out.error().map(str::to_string),
        cause: out.cause().map(str::to_string),
    })
}

/// The execution's events after `after_id` (all pages), oldest first.
pub async fn events_since(
    sfn: &aws_sdk_sfn::Client,
    execution: &str,
    after_id: i64,
) -> Result<Vec<HistoryEvent>, AwsError> {
    let mut pages = sfn
        .get_execution_history()
        .execution_arn(execution)
        .max_results(1000)
        .into_paginator()
        .send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::api("sfn", "GetExecutionHistory", &e))?;
        out.extend(page.events().iter().filter(|e| e.id() > after_id).cloned());
    }
    Ok(out)
}

/// A one-line description of the events a person following a run cares about.
pub fn describe_event(event: &HistoryEvent) -> Option<String> {
    match event.r#type() {
        HistoryEventType::TaskStateEntered
        | HistoryEventType::ParallelStateEntered
        | HistoryEventType::MapStateEntered
        | HistoryEventType::ChoiceStateEntered => event
            .state_entered_event_details()
            .map(|d| format!("→ {}", d.name())),
        HistoryEventType::ChoiceStateExited => event
            .state_exited_event_details()
            .map(|d| format!("  {} decided", d.name())),
        HistoryEventType::LambdaFunctionFailed => {
            event.lambda_function_failed_event_details().map(|d| {
                format!(
                    "  ! {} (retried or caught per the state's policy)",
                    d.error().unwrap_or("failed")
                )
            })
        }
        HistoryEventType::TaskFailed => event
            .task_failed_event_details()
            .map(|d| format!("  ! {}", d.error().unwrap_or("failed"))),
        HistoryEventType::ExecutionFailed => event
            .execution_failed_event_details()
            .map(|d| format!("✗ failed: {}", d.error().unwrap_or(""))),
        HistoryEventType::ExecutionSucceeded => Some("✓ succeeded".into()),
        _ => None,
    }
}
